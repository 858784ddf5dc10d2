// Writing report files for scripts: "-" is standard output; any other path
// is written safely (internal/safe_file.h): atomically, so a reader (a cron
// job, the node_exporter textfile collector) never sees half a file,
// fsynced, through no symlink, and never over the trade store.
#ifndef TRADESTORE_CLI_OUTPUT_H_
#define TRADESTORE_CLI_OUTPUT_H_

#include <ostream>
#include <string>

#include "absl/status/status.h"

namespace tradestore::cli {

// Writes `content` to `path`, or to `out` when `path` is "-". `store`, when
// given, is the SQLite file the command works on: refused as a target
// (kFailedPrecondition), as are symlinks and non-regular files.
absl::Status WriteReport(const std::string& path, const std::string& content,
                         std::ostream& out, const std::string& store = "");

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_OUTPUT_H_
