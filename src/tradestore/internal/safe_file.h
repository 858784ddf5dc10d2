// Writing files that others read (reports, metrics, manifests, archives,
// backups) so that a reader sees the old file or the whole new one, a
// crash leaves one of the two, and nobody who can write to the directory
// can redirect the write: the data goes to a temp file created with
// O_CREAT|O_EXCL|O_NOFOLLOW beside the target, is fsynced, and is renamed
// over the target, after which the directory is fsynced. A target that is
// a symlink or not a regular file, or that is a file the caller protects
// (the trade store), is refused before anything is written.
//
// Thread-safety: a SafeFile belongs to one thread; the functions are safe
// from any thread.
#ifndef TRADESTORE_INTERNAL_SAFE_FILE_H_
#define TRADESTORE_INTERNAL_SAFE_FILE_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore::internal {

struct SafeWriteOptions {
  // The new file's permissions (before the umask).
  mode_t mode = 0644;
  // Files the write must never replace, whatever path names them (compared
  // by device and inode): the SQLite store a command works on.
  std::vector<std::string> never_replace = {};
};

// A file being written under a temp name beside its target.
class SafeFile {
 public:
  // Returns kFailedPrecondition when `path` may not be replaced (see
  // above), kNotFound when its directory does not exist, kInternal when
  // the temp file cannot be created.
  static absl::StatusOr<std::unique_ptr<SafeFile>> Create(
      const std::string& path, const SafeWriteOptions& options = {});
  // Removes the temp file unless Commit succeeded.
  ~SafeFile();
  SafeFile(const SafeFile&) = delete;
  SafeFile& operator=(const SafeFile&) = delete;

  // The temp file, open for writing (a caller may hand it to zlib).
  int fd() const { return fd_; }
  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }

  // Appends `data`; kInternal on a write error (disk full).
  absl::Status Write(absl::string_view data);
  // Fsyncs, closes, renames over the target and fsyncs the directory.
  // The target is checked again just before: a symlink planted meanwhile
  // is refused. REQUIRES: called once.
  absl::Status Commit();
  // Closes the descriptor without committing (after a caller's own
  // library closed it, pass owned=false).
  void ReleaseFd(bool owned = true);

 private:
  SafeFile(std::string path, std::string temp, int fd,
           SafeWriteOptions options);
  std::string path_, temp_;
  int fd_ = -1;
  SafeWriteOptions options_;
  bool committed_ = false;
};

// Writes `content` to `path` through a SafeFile.
absl::Status WriteFileSafely(const std::string& path, absl::string_view content,
                             const SafeWriteOptions& options = {});

// Fsyncs the file at `path` (never through a link).
absl::Status SyncFile(const std::string& path);

// Fsyncs the directory holding `path`, so a rename into it survives a
// crash.
absl::Status SyncParentDirectory(const std::string& path);

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_SAFE_FILE_H_
