#include "testing/fault_vfs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

namespace tradestore::testing {

FaultVfs* FaultVfs::current_ = nullptr;

struct FaultVfs::File {
  sqlite3_file base;
  std::string* path;  // null: a file not tracked (temp files)
  sqlite3_file* real;
};

FaultVfs::FaultVfs() {
  real_ = sqlite3_vfs_find(nullptr);
  current_ = this;
  vfs_.iVersion = 2;
  vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
  vfs_.mxPathname = real_->mxPathname;
  vfs_.zName = "tradestore-fault";
  vfs_.xOpen = &FaultVfs::Open;
  vfs_.xDelete = [](sqlite3_vfs*, const char* name, int sync_dir) {
    if (current_->dead_) return SQLITE_IOERR_DELETE;
    return current_->real_->xDelete(current_->real_, name, sync_dir);
  };
  vfs_.xAccess = [](sqlite3_vfs*, const char* name, int flags, int* out) {
    return current_->real_->xAccess(current_->real_, name, flags, out);
  };
  vfs_.xFullPathname = [](sqlite3_vfs*, const char* name, int n, char* out) {
    return current_->real_->xFullPathname(current_->real_, name, n, out);
  };
  vfs_.xDlOpen = [](sqlite3_vfs*, const char* name) {
    return current_->real_->xDlOpen(current_->real_, name);
  };
  vfs_.xDlError = [](sqlite3_vfs*, int n, char* out) {
    current_->real_->xDlError(current_->real_, n, out);
  };
  vfs_.xDlSym = [](sqlite3_vfs*, void* h, const char* name) {
    return current_->real_->xDlSym(current_->real_, h, name);
  };
  vfs_.xDlClose = [](sqlite3_vfs*, void* h) {
    current_->real_->xDlClose(current_->real_, h);
  };
  vfs_.xRandomness = [](sqlite3_vfs*, int n, char* out) {
    return current_->real_->xRandomness(current_->real_, n, out);
  };
  vfs_.xSleep = [](sqlite3_vfs*, int us) {
    return current_->real_->xSleep(current_->real_, us);
  };
  vfs_.xCurrentTime = [](sqlite3_vfs*, double* out) {
    return current_->real_->xCurrentTime(current_->real_, out);
  };
  vfs_.xGetLastError = [](sqlite3_vfs*, int n, char* out) {
    return current_->real_->xGetLastError(current_->real_, n, out);
  };
  vfs_.xCurrentTimeInt64 = [](sqlite3_vfs*, sqlite3_int64* out) {
    return current_->real_->xCurrentTimeInt64(current_->real_, out);
  };

  methods_.iVersion = 2;  // no xFetch: every read goes through xRead
  methods_.xClose = &FaultVfs::Close;
  methods_.xRead = &FaultVfs::Read;
  methods_.xWrite = &FaultVfs::Write;
  methods_.xTruncate = &FaultVfs::Truncate;
  methods_.xSync = &FaultVfs::Sync;
  methods_.xFileSize = &FaultVfs::FileSize;
  methods_.xLock = &FaultVfs::Lock;
  methods_.xUnlock = &FaultVfs::Unlock;
  methods_.xCheckReservedLock = &FaultVfs::CheckReservedLock;
  methods_.xFileControl = &FaultVfs::FileControl;
  methods_.xSectorSize = &FaultVfs::SectorSize;
  methods_.xDeviceCharacteristics = &FaultVfs::DeviceCharacteristics;
  methods_.xShmMap = &FaultVfs::ShmMap;
  methods_.xShmLock = &FaultVfs::ShmLock;
  methods_.xShmBarrier = &FaultVfs::ShmBarrier;
  methods_.xShmUnmap = &FaultVfs::ShmUnmap;
  sqlite3_vfs_register(&vfs_, /*makeDflt=*/1);
}

FaultVfs::~FaultVfs() {
  sqlite3_vfs_unregister(&vfs_);
  sqlite3_vfs_register(real_, /*makeDflt=*/1);
  current_ = nullptr;
}

void FaultVfs::FailSync(int64_t nth) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_sync_at_ = nth > 0 ? syncs_ + nth : 0;
}

int64_t FaultVfs::syncs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return syncs_;
}

int64_t FaultVfs::sync_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sync_failures_;
}

void FaultVfs::FailWrite(int64_t nth) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_write_at_ = nth > 0 ? writes_ + nth : 0;
}

void FaultVfs::FailRead(int64_t nth) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_read_at_ = nth > 0 ? reads_ + nth : 0;
}

int64_t FaultVfs::io_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return io_failures_;
}

int64_t FaultVfs::bytes_undone() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_undone_;
}

void FaultVfs::PowerLoss(bool torn) {
  constexpr int64_t kSector = 512;
  std::lock_guard<std::mutex> lock(mu_);
  dead_ = true;
  for (auto& [path, state] : paths_) {
    const int fd = ::open(path.c_str(), O_RDWR);
    if (fd < 0) continue;
    // The newest write's first sector, read before anything is undone.
    std::string kept;
    int64_t kept_at = 0;
    if (torn && !state.undo.empty()) {
      kept_at = state.undo.back().offset;
      kept.resize(kSector);
      const ssize_t n = ::pread(fd, kept.data(), kSector, kept_at);
      kept.resize(n > 0 ? static_cast<size_t>(n) : 0);
    }
    for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it) {
      if (!it->old_bytes.empty()) {
        (void)!::pwrite(fd, it->old_bytes.data(), it->old_bytes.size(),
                        it->offset);
      }
      bytes_undone_ += static_cast<int64_t>(it->old_bytes.size());
    }
    struct stat st;
    if (state.synced_size >= 0 && ::fstat(fd, &st) == 0) {
      if (st.st_size > state.synced_size) {
        bytes_undone_ += st.st_size - state.synced_size;
      }
      (void)!::ftruncate(fd, state.synced_size);
    }
    if (!kept.empty()) {
      (void)!::pwrite(fd, kept.data(), kept.size(), kept_at);
      bytes_undone_ -= static_cast<int64_t>(kept.size());
    }
    ::close(fd);
    state.undo.clear();
  }
  // The wal-index lives in memory after a power loss: the next open
  // rebuilds it from the WAL file.
  for (const auto& [path, state] : paths_) {
    if (path.size() > 4 && path.compare(path.size() - 4, 4, "-wal") == 0) {
      std::error_code ignored;
      std::filesystem::remove(path.substr(0, path.size() - 4) + "-shm",
                              ignored);
    }
  }
}

void FaultVfs::RecordUndo(File* f, int64_t offset, int64_t n) {
  sqlite3_int64 size = 0;
  f->real->pMethods->xFileSize(f->real, &size);
  PathState& state = paths_[*f->path];
  if (state.synced_size < 0) state.synced_size = size;
  Undo undo{offset, {}};
  if (offset < size) {
    undo.old_bytes.resize(
        static_cast<size_t>(std::min<int64_t>(n, size - offset)));
    f->real->pMethods->xRead(f->real, undo.old_bytes.data(),
                             static_cast<int>(undo.old_bytes.size()), offset);
  }
  state.undo.push_back(std::move(undo));
}

int FaultVfs::Open(sqlite3_vfs*, const char* name, sqlite3_file* file,
                   int flags, int* out_flags) {
  FaultVfs* self = current_;
  File* f = reinterpret_cast<File*>(file);
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  f->path = nullptr;
  f->base.pMethods = nullptr;
  const int rc =
      self->real_->xOpen(self->real_, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK || f->real->pMethods == nullptr) return rc;
  if (name != nullptr && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL |
                                   SQLITE_OPEN_MAIN_JOURNAL)) != 0) {
    f->path = new std::string(name);
  }
  f->base.pMethods = &self->methods_;
  return rc;
}

int FaultVfs::Close(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  const int rc = f->real->pMethods->xClose(f->real);
  delete f->path;
  f->path = nullptr;
  return rc;
}

int FaultVfs::Read(sqlite3_file* file, void* out, int n, sqlite3_int64 at) {
  File* f = reinterpret_cast<File*>(file);
  FaultVfs* self = current_;
  if (self->dead_) return SQLITE_IOERR_READ;
  if (f->path != nullptr) {
    std::lock_guard<std::mutex> lock(self->mu_);
    if (++self->reads_ == self->fail_read_at_) {
      ++self->io_failures_;
      return SQLITE_IOERR_READ;
    }
  }
  return f->real->pMethods->xRead(f->real, out, n, at);
}

int FaultVfs::Write(sqlite3_file* file, const void* data, int n,
                    sqlite3_int64 at) {
  File* f = reinterpret_cast<File*>(file);
  FaultVfs* self = current_;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->dead_) return SQLITE_IOERR_WRITE;
    if (f->path != nullptr) {
      if (++self->writes_ == self->fail_write_at_) {
        ++self->io_failures_;
        return SQLITE_IOERR_WRITE;
      }
      self->RecordUndo(f, at, n);
    }
  }
  return f->real->pMethods->xWrite(f->real, data, n, at);
}

int FaultVfs::Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = reinterpret_cast<File*>(file);
  FaultVfs* self = current_;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->dead_) return SQLITE_IOERR_TRUNCATE;
    if (f->path != nullptr) {
      sqlite3_int64 old = 0;
      f->real->pMethods->xFileSize(f->real, &old);
      if (old > size) self->RecordUndo(f, size, old - size);
    }
  }
  return f->real->pMethods->xTruncate(f->real, size);
}

int FaultVfs::Sync(sqlite3_file* file, int flags) {
  File* f = reinterpret_cast<File*>(file);
  FaultVfs* self = current_;
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    if (self->dead_) return SQLITE_IOERR_FSYNC;
    ++self->syncs_;
    if (self->syncs_ == self->fail_sync_at_) {
      ++self->sync_failures_;
      return SQLITE_IOERR_FSYNC;
    }
  }
  const int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK && f->path != nullptr) {
    std::lock_guard<std::mutex> lock(self->mu_);
    sqlite3_int64 size = 0;
    f->real->pMethods->xFileSize(f->real, &size);
    PathState& state = self->paths_[*f->path];
    state.undo.clear();
    state.synced_size = size;
  }
  return rc;
}

int FaultVfs::FileSize(sqlite3_file* file, sqlite3_int64* out) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xFileSize(f->real, out);
}

int FaultVfs::Lock(sqlite3_file* file, int level) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xLock(f->real, level);
}

int FaultVfs::Unlock(sqlite3_file* file, int level) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xUnlock(f->real, level);
}

int FaultVfs::CheckReservedLock(sqlite3_file* file, int* out) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int FaultVfs::FileControl(sqlite3_file* file, int op, void* arg) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int FaultVfs::SectorSize(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int FaultVfs::DeviceCharacteristics(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

int FaultVfs::ShmMap(sqlite3_file* file, int region, int size, int extend,
                     void volatile** out) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int FaultVfs::ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void FaultVfs::ShmBarrier(sqlite3_file* file) {
  File* f = reinterpret_cast<File*>(file);
  f->real->pMethods->xShmBarrier(f->real);
}

int FaultVfs::ShmUnmap(sqlite3_file* file, int delete_flag) {
  File* f = reinterpret_cast<File*>(file);
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

}  // namespace tradestore::testing
