#include "tradestore/ops/work_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace tradestore::ops {

absl::StatusOr<std::unique_ptr<WorkDir>> WorkDir::Create(
    const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string tmpl = base + "/tradestore-work-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {  // mode 0700
    return absl::InternalError(absl::StrCat("cannot make a directory in ", base,
                                            ": ", std::strerror(errno)));
  }
  return std::unique_ptr<WorkDir>(new WorkDir(tmpl));
}

WorkDir::~WorkDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

}  // namespace tradestore::ops
