// The archives table: each archive of a SQLite store, with its checks, so
// the gate into the archived phase can tell whether a verified one exists.
//
// Thread-safety: a function over a thread-safe pool.
#ifndef TRADESTORE_POSTGRES_ARCHIVE_LOG_H_
#define TRADESTORE_POSTGRES_ARCHIVE_LOG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"

namespace tradestore {

class PgPool;

struct ArchiveRecord {
  std::string source_store_id;
  std::string path;  // absolute
  std::string file_sha256;
  int64_t rows = 0, exact_rows = 0;
  std::optional<int64_t> min_id, max_id;
  std::string content_sha256, postgres_content_sha256;
  bool verified = false;
};

// Records the archive.
absl::Status RecordArchive(PgPool& pool, const ArchiveRecord& record);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_ARCHIVE_LOG_H_
