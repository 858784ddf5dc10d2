#include "tradestore/cli/output.h"

#include "tradestore/internal/safe_file.h"

namespace tradestore::cli {

absl::Status WriteReport(const std::string& path, const std::string& content,
                         std::ostream& out, const std::string& store) {
  if (path == "-") {
    out << content << std::flush;
    return out ? absl::OkStatus()
               : absl::UnavailableError("cannot write to standard output");
  }
  internal::SafeWriteOptions options;
  if (!store.empty()) options.never_replace.push_back(store);
  return internal::WriteFileSafely(path, content, options);
}

}  // namespace tradestore::cli
