// The files of an archive run: a private working directory inside the
// archive directory for everything half-made (the SQLite backup, the gzip
// being written, the copy read back), and the finished archive put in place
// under its final name only at the end, never over an existing file. A run
// killed at any point leaves only its working directory, which the next
// run removes; a truncated .db.gz can never stand under a final name.
//
// Thread-safety: one run, one thread.
#ifndef TRADESTORE_MIGRATION_ARCHIVE_FILES_H_
#define TRADESTORE_MIGRATION_ARCHIVE_FILES_H_

#include <sys/types.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"

namespace tradestore::archive {

class WorkDir {
 public:
  // Creates `<to_dir>/.tradestore-archive-<pid>-<random>` (mode 0700),
  // after removing those whose process is gone (a killed run's), each named
  // in `log`. Creates to_dir when missing.
  static absl::StatusOr<std::unique_ptr<WorkDir>> Create(
      const std::string& to_dir, std::ostream& log);
  // Removes the directory and whatever is left in it.
  ~WorkDir();

  // A path inside the directory.
  std::string File(const std::string& name) const;

 private:
  explicit WorkDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The mode for archive files made from the store at `store`: its own
// permission bits without the world's, 0600 when that leaves none.
mode_t ArchiveMode(const std::string& store);

// Compresses `from` into the new file `to` (created with `mode`, never
// through a link), fsynced.
absl::Status Gzip(const std::string& from, const std::string& to, mode_t mode);
absl::Status Gunzip(const std::string& from, const std::string& to);

// Moves `from` to `to` (same filesystem) unless `to` exists, and fsyncs the
// directory. kAlreadyExists when it does.
absl::Status PlaceWithoutReplacing(const std::string& from,
                                   const std::string& to);

// Removes a SQLite file with its -wal, -shm and -journal.
void RemoveDatabase(const std::string& path);

}  // namespace tradestore::archive

#endif  // TRADESTORE_MIGRATION_ARCHIVE_FILES_H_
