// A private working directory (0700) for one run's files, removed with
// everything in it when the run ends.
//
// Thread-safety: one owner.
#ifndef TRADESTORE_OPS_WORK_DIR_H_
#define TRADESTORE_OPS_WORK_DIR_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace tradestore::ops {

class WorkDir {
 public:
  // Under $TMPDIR (else /tmp), or under `parent` when given.
  static absl::StatusOr<std::unique_ptr<WorkDir>> Create(
      const std::string& parent = "");
  ~WorkDir();
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_WORK_DIR_H_
