// FaultVfs: a SQLite VFS wrapping the default one, for SQLite's own kind of
// fault tests. While it lives it is the default VFS of the process, so a
// store opened meanwhile goes through it. It can fail the Nth sync (an I/O
// error at the worst moment: the commit's frames written, their durability
// unknown), the Nth write or read of the database or its WAL, and simulate
// power loss: every write not yet synced is undone on disk, file by file
// (or, torn, all but the first sector of the newest one), and every later
// call fails.
//
// Thread-safety: the counters and the undo log are guarded; one FaultVfs at
// a time.
#ifndef TRADESTORE_TESTS_TESTING_FAULT_VFS_H_
#define TRADESTORE_TESTS_TESTING_FAULT_VFS_H_

#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tradestore::testing {

class FaultVfs {
 public:
  FaultVfs();
  ~FaultVfs();
  FaultVfs(const FaultVfs&) = delete;
  FaultVfs& operator=(const FaultVfs&) = delete;

  // The nth xSync from now (1 = the next) fails with SQLITE_IOERR_FSYNC,
  // after doing nothing; 0 disarms.
  void FailSync(int64_t nth);
  int64_t syncs() const;
  int64_t sync_failures() const;
  // The same for the nth xWrite (SQLITE_IOERR_WRITE) and xRead
  // (SQLITE_IOERR_READ) of the database, its WAL or its journal.
  void FailWrite(int64_t nth);
  void FailRead(int64_t nth);
  int64_t io_failures() const;

  // Undoes every write made since its file's last sync and fails every
  // call from then on. Close the store afterwards, then reopen the file
  // with a fresh FaultVfs or none.
  // `torn`: the newest unsynced write of each file keeps its first 512
  // bytes, as when power fails mid-write.
  void PowerLoss(bool torn = false);
  // Bytes of unsynced writes undone by PowerLoss: overwritten ones put
  // back and appended ones cut off.
  int64_t bytes_undone() const;

 private:
  struct File;
  struct Undo {
    int64_t offset;
    std::string old_bytes;  // what was there, up to the old end of file
  };
  struct PathState {
    int64_t synced_size = -1;  // size at the last sync; -1: not known yet
    std::vector<Undo> undo;
  };

  static FaultVfs* current_;
  static int Open(sqlite3_vfs*, const char*, sqlite3_file*, int, int*);
  static int Close(sqlite3_file*);
  static int Read(sqlite3_file*, void*, int, sqlite3_int64);
  static int Write(sqlite3_file*, const void*, int, sqlite3_int64);
  static int Truncate(sqlite3_file*, sqlite3_int64);
  static int Sync(sqlite3_file*, int);
  static int FileSize(sqlite3_file*, sqlite3_int64*);
  static int Lock(sqlite3_file*, int);
  static int Unlock(sqlite3_file*, int);
  static int CheckReservedLock(sqlite3_file*, int*);
  static int FileControl(sqlite3_file*, int, void*);
  static int SectorSize(sqlite3_file*);
  static int DeviceCharacteristics(sqlite3_file*);
  static int ShmMap(sqlite3_file*, int, int, int, void volatile**);
  static int ShmLock(sqlite3_file*, int, int, int);
  static void ShmBarrier(sqlite3_file*);
  static int ShmUnmap(sqlite3_file*, int);

  // Remembers what [offset, offset + n) of `f` held before a write.
  void RecordUndo(File* f, int64_t offset, int64_t n);

  sqlite3_vfs vfs_{};
  sqlite3_vfs* real_ = nullptr;
  sqlite3_io_methods methods_{};
  mutable std::mutex mu_;
  std::map<std::string, PathState> paths_;
  int64_t syncs_ = 0, fail_sync_at_ = 0, sync_failures_ = 0;
  int64_t writes_ = 0, fail_write_at_ = 0, reads_ = 0, fail_read_at_ = 0;
  int64_t io_failures_ = 0;
  int64_t bytes_undone_ = 0;
  std::atomic<bool> dead_{false};
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_FAULT_VFS_H_
