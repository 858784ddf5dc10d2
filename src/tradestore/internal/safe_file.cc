#include "tradestore/internal/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradestore::internal {
namespace {

std::string Errno(absl::string_view what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// Whether `path` may be replaced: absent, or a regular file that is none of
// `protect` (by device and inode; a missing protected file protects
// nothing).
absl::Status CheckTarget(const std::string& path,
                         const std::vector<std::string>& protect) {
  struct stat target;
  if (lstat(path.c_str(), &target) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return absl::FailedPreconditionError(Errno("cannot look at", path));
  }
  if (S_ISLNK(target.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path,
                     " is a symbolic link: not followed (write to its target's "
                     "path instead)"));
  }
  if (!S_ISREG(target.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " exists and is not a regular file: not replaced"));
  }
  for (const std::string& other : protect) {
    struct stat p;
    if (stat(other.c_str(), &p) == 0 && p.st_dev == target.st_dev &&
        p.st_ino == target.st_ino) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is the store ", other, ": not replaced"));
    }
  }
  return absl::OkStatus();
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return absl::StrFormat("%016x", random());
}

}  // namespace

SafeFile::SafeFile(std::string path, std::string temp, int fd,
                   SafeWriteOptions options)
    : path_(std::move(path)),
      temp_(std::move(temp)),
      fd_(fd),
      options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<SafeFile>> SafeFile::Create(
    const std::string& path, const SafeWriteOptions& options) {
  if (absl::Status s = CheckTarget(path, options.never_replace); !s.ok()) {
    return s;
  }
  const std::filesystem::path target(path);
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : ".";
  for (int attempt = 0; attempt < 16; ++attempt) {
    // Hidden, and named for the target so leftovers are recognisable.
    std::string temp =
        (std::filesystem::path(dir) /
         absl::StrCat(".", target.filename().string(), ".tmp-", RandomSuffix()))
            .string();
    const int fd =
        open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
             options.mode);
    if (fd >= 0) {
      // The umask may have removed bits; it never adds any.
      return std::unique_ptr<SafeFile>(
          new SafeFile(path, std::move(temp), fd, options));
    }
    if (errno == ENOENT) {
      return absl::NotFoundError(Errno("no directory for", path));
    }
    if (errno != EEXIST) {
      return absl::InternalError(Errno("cannot create a file beside", path));
    }
  }
  return absl::InternalError(
      absl::StrCat("cannot create a temp file beside ", path));
}

SafeFile::~SafeFile() {
  ReleaseFd();
  if (!committed_) unlink(temp_.c_str());
}

void SafeFile::ReleaseFd(bool owned) {
  if (fd_ >= 0 && owned) close(fd_);
  fd_ = -1;
}

absl::Status SafeFile::Write(absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd_, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return absl::InternalError(Errno("cannot write", temp_));
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SafeFile::Commit() {
  if (fd_ >= 0) {
    if (fsync(fd_) != 0) {
      return absl::InternalError(Errno("cannot sync", temp_));
    }
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) {
      return absl::InternalError(Errno("cannot close", temp_));
    }
  } else if (absl::Status s = SyncFile(temp_); !s.ok()) {
    return s;  // closed by a library (zlib): synced by name
  }
  if (absl::Status s = CheckTarget(path_, options_.never_replace); !s.ok()) {
    return s;
  }
  if (rename(temp_.c_str(), path_.c_str()) != 0) {
    return absl::InternalError(Errno("cannot rename onto", path_));
  }
  committed_ = true;
  return SyncParentDirectory(path_);
}

absl::Status WriteFileSafely(const std::string& path, absl::string_view content,
                             const SafeWriteOptions& options) {
  auto file = SafeFile::Create(path, options);
  if (!file.ok()) return file.status();
  if (absl::Status s = (*file)->Write(content); !s.ok()) return s;
  return (*file)->Commit();
}

namespace {

absl::Status SyncOpened(const std::string& path, int flags) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return absl::InternalError(Errno("cannot open", path));
  const int rc = fsync(fd);
  close(fd);
  if (rc != 0) return absl::InternalError(Errno("cannot sync", path));
  return absl::OkStatus();
}

}  // namespace

absl::Status SyncFile(const std::string& path) {
  return SyncOpened(path, O_NOFOLLOW);
}

absl::Status SyncParentDirectory(const std::string& path) {
  const std::filesystem::path p(path);
  return SyncOpened(p.has_parent_path() ? p.parent_path().string() : ".",
                    O_DIRECTORY);
}

}  // namespace tradestore::internal
