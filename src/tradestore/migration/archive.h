// The archive of the SQLite store, the plan's last step: an online backup
// (SQLite's backup API) compressed with gzip, and a manifest with the row
// count, the id range, the sha256 of the file and a content hash over every
// trade's immutable columns (id, symbol, side, quantity, price, timestamp,
// client_order_id, fee, created_at) in id order. The same hash is computed
// from Postgres for the same ids, so anyone can check later that Postgres
// still holds what SQLite held; statuses may have moved on in Postgres and
// do not count. Before reporting success the archive is read back: gunzipped,
// integrity-checked, counted and hashed again. Each archive is recorded in
// Postgres (archives), where the gate into the archived phase reads it.
//
// Thread-safety: a function.
#ifndef TRADESTORE_MIGRATION_ARCHIVE_H_
#define TRADESTORE_MIGRATION_ARCHIVE_H_

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore {

struct ArchiveOptions {
  std::string sqlite_path;
  PgOptions pg;
  std::string to_dir;  // created when missing
};

struct ArchiveReport {
  std::string file;      // the .db.gz
  std::string manifest;  // the .manifest.json beside it
  std::string file_sha256;
  int64_t rows = 0;        // trades rows in the archive
  int64_t exact_rows = 0;  // rows that convert exactly (the hashed ones)
  std::optional<int64_t> min_id, max_id;
  std::string content_sha256;
  std::string postgres_content_sha256;
  std::vector<std::string> checks;    // what was checked, in words
  std::vector<std::string> failures;  // empty when verified
  bool verified() const { return failures.empty(); }
};

// Writes, checks and records the archive. A failed check is in the report
// (not verified), not an error. Returns kNotFound (no SQLite store),
// kUnavailable (Postgres), kInternal (the file could not be written).
absl::StatusOr<ArchiveReport> RunArchive(const ArchiveOptions& options,
                                         std::ostream& log);

std::string ArchiveJson(const ArchiveReport& report);

// An archive as its manifest describes it (`tradestore archive list`).
struct ArchiveEntry {
  std::string file, manifest;
  int64_t rows = 0;
  std::optional<int64_t> min_id, max_id;
  std::string file_sha256;
  bool verified = false;  // when it was written
  std::string problem;    // a manifest unreadable, its file missing
};

// The archives in `dir`, by name; reads the manifests only.
absl::StatusOr<std::vector<ArchiveEntry>> ListArchives(const std::string& dir);

struct ArchiveCheckOptions {
  std::string file;  // a .db.gz written by RunArchive, its manifest beside
  // Also recompute the content hash from Postgres for the archive's ids
  // (read only: no migration, no record).
  std::optional<PgOptions> pg;
};

// Checks an archive again, as a restore would, against its manifest: the
// file's sha256, gunzipped (in a private temp directory, removed) and
// integrity-checked, the row count and content hash; with options.pg,
// Postgres still holds the same immutable columns. Writes nothing beside
// the archive. A failed check is in the report, not an error; kNotFound
// when the file or its manifest is missing.
absl::StatusOr<ArchiveReport> CheckArchive(const ArchiveCheckOptions& options,
                                           std::ostream& log);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_ARCHIVE_H_
