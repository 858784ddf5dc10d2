// Writing report files for scripts: atomically, so a reader (a cron job, the
// node_exporter textfile collector) never sees half a file.
#ifndef TRADESTORE_CLI_OUTPUT_H_
#define TRADESTORE_CLI_OUTPUT_H_

#include <string>

#include "absl/status/status.h"

namespace tradestore::cli {

// Writes `content` to `path` through a temporary file and a rename.
absl::Status WriteFileAtomically(const std::string& path,
                                 const std::string& content);

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_OUTPUT_H_
