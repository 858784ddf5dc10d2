#include "tradestore/migration/archive.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/safe_file.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/migration/archive_files.h"
#include "tradestore/postgres/archive_log.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/row_text.h"
#include "tradestore/sqlite/sqlite_backup.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/version.h"

namespace tradestore {
namespace {

namespace fs = std::filesystem;

// Fields of the canonical line that never change once a trade is written:
// id, symbol, side, quantity, price, timestamp, client_order_id, fee,
// created_at (pg::kColumns order).
constexpr int kImmutableFields[] = {0, 1, 2, 3, 4, 5, 7, 8, 10};

void HashImmutable(internal::Sha256& sha, absl::string_view line) {
  const auto fields = pg::SplitFields(line);
  for (size_t i = 0; i < std::size(kImmutableFields); ++i) {
    if (i > 0) sha.Update("\t");
    sha.Update(fields[kImmutableFields[i]]);
  }
  sha.Update("\n");
}

struct Digest {
  int64_t rows = 0, exact_rows = 0;
  std::optional<int64_t> min_id, max_id;
  std::string sha256;
};

absl::StatusOr<Digest> SqliteDigest(const std::string& path) {
  TS_ASSIGN_OR_RETURN(auto store,
                      SqliteTradeStore::Open({.path = path,
                                              .create_if_missing = false,
                                              .require_trades_table = true,
                                              .reader_connections = 1}));
  Digest d;
  internal::Sha256 sha;
  std::string line;
  // Every row, from the smallest id SQLite allows.
  constexpr int kChunk = 10000;
  for (int64_t first = INT64_MIN;;) {
    TS_ASSIGN_OR_RETURN(
        const int64_t count,
        store->ScanStoredRowsBetween(
            first, INT64_MAX, kChunk, [&](const StoredRow& row) {
              ++d.rows;
              if (!d.min_id) d.min_id = row.id;
              d.max_id = row.id;
              auto trade = ConvertStoredRow(row, nullptr);
              if (!trade.ok()) return absl::OkStatus();  // quarantined
              ++d.exact_rows;
              line.clear();
              pg::AppendRowText(&line, *trade);
              HashImmutable(sha, line);
              return absl::OkStatus();
            }));
    if (count < kChunk || *d.max_id == INT64_MAX) break;
    first = *d.max_id + 1;
  }
  d.sha256 = sha.HexDigest();
  return d;
}

absl::StatusOr<Digest> PostgresDigest(PgPool& pool, const Digest& like) {
  Digest d;
  internal::Sha256 sha;
  if (like.min_id) {
    TS_RETURN_IF_ERROR(pg::CopyOutTradeLines(pool, *like.min_id, *like.max_id,
                                             [&](absl::string_view line) {
                                               ++d.rows;
                                               HashImmutable(sha, line);
                                               return true;
                                             }));
  }
  d.exact_rows = d.rows;
  d.sha256 = sha.HexDigest();
  return d;
}

std::string Stamp() {
  std::string iso =
      Clock::Real()->Now().ToIso8601();  // 2026-11-24T20:11:17.123456Z
  iso = absl::StrReplaceAll(iso, {{"-", ""}, {":", ""}, {".", ""}});
  return iso;
}

void Compare(ArchiveReport& r, bool same, std::string check) {
  (same ? r.checks : r.failures).push_back(std::move(check));
}

// Reads `zipped` back as a restore would, in `scratch` (removed after):
// decompressed, SQLite's integrity_check, and the rows and content hash
// against the report's. The digest read back, when it could be read.
std::optional<Digest> ReadBack(const std::string& zipped,
                               const std::string& scratch, ArchiveReport& r) {
  absl::Status readable = archive::Gunzip(zipped, scratch);
  if (readable.ok()) readable = sqlite::CheckIntegrity(scratch);
  Compare(r, readable.ok(),
          readable.ok() ? "the archive decompresses and passes SQLite's "
                          "integrity_check"
                        : std::string(readable.message()));
  std::optional<Digest> digest;
  if (readable.ok()) {
    auto again = SqliteDigest(scratch);
    if (again.ok()) digest = *again;
    Compare(r,
            again.ok() && again->rows == r.rows &&
                again->sha256 == r.content_sha256,
            again.ok()
                ? absl::StrCat(
                      "read back: ", again->rows, " rows (expected ", r.rows,
                      "), content hash ",
                      again->sha256 == r.content_sha256 ? "equal" : "DIFFERENT")
                : std::string(again.status().message()));
  }
  archive::RemoveDatabase(scratch);
  return digest;
}

// The archive's immutable columns against what Postgres holds in its ids.
absl::Status ComparePostgres(PgPool& pool, const Digest& archived,
                             ArchiveReport& r) {
  TS_ASSIGN_OR_RETURN(Digest pg, PostgresDigest(pool, archived));
  r.postgres_content_sha256 = pg.sha256;
  Compare(r, pg.rows == r.exact_rows && pg.sha256 == r.content_sha256,
          absl::StrCat("Postgres holds ", pg.rows, " trades in ids ",
                       r.min_id.value_or(0), "-", r.max_id.value_or(0),
                       " (the archive has ", r.exact_rows,
                       " exact rows); immutable columns ",
                       pg.sha256 == r.content_sha256 ? "equal" : "DIFFERENT"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> StoreIdOf(const std::string& sqlite_path) {
  TS_ASSIGN_OR_RETURN(auto source,
                      SqliteTradeStore::Open({.path = sqlite_path,
                                              .create_if_missing = false,
                                              .require_trades_table = true,
                                              .read_only = true,
                                              .reader_connections = 1}));
  return source->store_id();
}

// Gives the archive and its manifest their names in `to_dir`. Only a
// verified archive takes the final name; another is kept for a look under
// a name that says it is not one.
absl::Status Place(const std::string& zipped, const std::string& to_dir,
                   mode_t mode, ArchiveReport& report) {
  const std::string base =
      (fs::path(to_dir) / absl::StrCat("trade_store-", Stamp(),
                                       report.verified() ? "" : ".unverified"))
          .string();
  report.file = base + ".db.gz";
  report.manifest = base + ".manifest.json";
  TS_RETURN_IF_ERROR(archive::PlaceWithoutReplacing(zipped, report.file));
  return internal::WriteFileSafely(report.manifest, ArchiveJson(report),
                                   {.mode = mode});
}

}  // namespace

absl::StatusOr<ArchiveReport> RunArchive(const ArchiveOptions& options,
                                         std::ostream& log) {
  TS_ASSIGN_OR_RETURN(const std::string store_id,
                      StoreIdOf(options.sqlite_path));
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(options.pg));
  TS_RETURN_IF_ERROR(EnsureMigrated(*pool));

  TS_ASSIGN_OR_RETURN(auto work, archive::WorkDir::Create(options.to_dir, log));
  const mode_t mode = archive::ArchiveMode(options.sqlite_path);
  const std::string raw = work->File("backup.db");
  const std::string check = work->File("check.db");
  const std::string zipped = work->File("archive.db.gz");

  log << "archive: backing up " << options.sqlite_path << std::endl;
  TS_RETURN_IF_ERROR(sqlite::BackupDatabase(options.sqlite_path, raw));
  TS_ASSIGN_OR_RETURN(const Digest digest, SqliteDigest(raw));
  ArchiveReport report;
  report.rows = digest.rows;
  report.exact_rows = digest.exact_rows;
  report.min_id = digest.min_id;
  report.max_id = digest.max_id;
  report.content_sha256 = digest.sha256;
  TS_RETURN_IF_ERROR(sqlite::UseRollbackJournal(raw));
  TS_RETURN_IF_ERROR(archive::Gzip(raw, zipped, mode));
  archive::RemoveDatabase(raw);
  TS_ASSIGN_OR_RETURN(report.file_sha256, internal::Sha256OfFile(zipped));

  // Read it back as a restore would.
  log << "archive: reading the archive back" << std::endl;
  ReadBack(zipped, check, report);
  TS_RETURN_IF_ERROR(ComparePostgres(*pool, digest, report));

  TS_RETURN_IF_ERROR(Place(zipped, options.to_dir, mode, report));
  TS_RETURN_IF_ERROR(RecordArchive(
      *pool, {.source_store_id = store_id,
              .path = fs::absolute(report.file).string(),
              .file_sha256 = report.file_sha256,
              .rows = report.rows,
              .exact_rows = report.exact_rows,
              .min_id = report.min_id,
              .max_id = report.max_id,
              .content_sha256 = report.content_sha256,
              .postgres_content_sha256 = report.postgres_content_sha256,
              .verified = report.verified()}));
  return report;
}

namespace {

std::string ManifestOf(const std::string& file) {
  constexpr absl::string_view kSuffix = ".db.gz";
  return absl::EndsWith(file, kSuffix)
             ? absl::StrCat(file.substr(0, file.size() - kSuffix.size()),
                            ".manifest.json")
             : file + ".manifest.json";
}

absl::StatusOr<nlohmann::json> ReadManifest(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("no manifest at ", path));
  }
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError(absl::StrCat(path, " is not a manifest"));
  }
  return j;
}

std::optional<int64_t> OptionalId(const nlohmann::json& v) {
  return v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>())
                               : std::nullopt;
}

}  // namespace

absl::StatusOr<std::vector<ArchiveEntry>> ListArchives(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> manifests;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (absl::EndsWith(name, ".manifest.json") && name[0] != '.') {
      manifests.push_back(e.path().string());
    }
  }
  if (ec) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", dir, ": ", ec.message()));
  }
  std::sort(manifests.begin(), manifests.end());
  std::vector<ArchiveEntry> entries;
  for (const std::string& m : manifests) {
    ArchiveEntry e;
    e.manifest = m;
    e.file = absl::StrCat(m.substr(0, m.size() - strlen(".manifest.json")),
                          ".db.gz");
    auto j = ReadManifest(m);
    if (!j.ok()) {
      e.problem = std::string(j.status().message());
    } else {
      e.rows = j->value("rows", int64_t{0});
      e.min_id = OptionalId(j->value("min_id", nlohmann::json()));
      e.max_id = OptionalId(j->value("max_id", nlohmann::json()));
      e.file_sha256 = j->value("file_sha256", "");
      e.verified = j->value("verified", false);
      if (!fs::exists(e.file, ec)) e.problem = "its .db.gz is missing";
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<ArchiveReport> CheckArchive(const ArchiveCheckOptions& options,
                                           std::ostream& log) {
  ArchiveReport report;
  report.file = options.file;
  report.manifest = ManifestOf(options.file);
  if (!fs::exists(options.file)) {
    return absl::NotFoundError(absl::StrCat("no archive at ", options.file));
  }
  TS_ASSIGN_OR_RETURN(const nlohmann::json manifest,
                      ReadManifest(report.manifest));
  report.rows = manifest.value("rows", int64_t{0});
  report.exact_rows = manifest.value("exact_rows", int64_t{0});
  report.min_id = OptionalId(manifest.value("min_id", nlohmann::json()));
  report.max_id = OptionalId(manifest.value("max_id", nlohmann::json()));
  report.content_sha256 = manifest.value("content_sha256", "");
  const std::string listed_sha = manifest.value("file_sha256", "");
  TS_ASSIGN_OR_RETURN(report.file_sha256, internal::Sha256OfFile(options.file));
  Compare(
      report, report.file_sha256 == listed_sha,
      absl::StrCat("the file's sha256 ", report.file_sha256 == listed_sha
                                             ? "is the manifest's"
                                             : "DIFFERS from the manifest's"));

  // Decompressed where nobody else looks, and removed.
  TS_ASSIGN_OR_RETURN(auto work, archive::WorkDir::Create(
                                     fs::temp_directory_path().string(), log));
  const std::string copy = work->File("check.db");
  log << "archive: reading " << options.file << " back" << std::endl;
  const std::optional<Digest> digest = ReadBack(options.file, copy, report);
  if (options.pg && digest) {
    TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(*options.pg));
    TS_RETURN_IF_ERROR(ComparePostgres(*pool, *digest, report));
  }
  return report;
}

std::string ArchiveJson(const ArchiveReport& r) {
  nlohmann::json j = {
      {"tradestore_version", kVersion},
      {"file", r.file},
      {"file_sha256", r.file_sha256},
      {"rows", r.rows},
      {"exact_rows", r.exact_rows},
      {"quarantined_rows", r.rows - r.exact_rows},
      {"min_id", r.min_id ? nlohmann::json(*r.min_id) : nlohmann::json()},
      {"max_id", r.max_id ? nlohmann::json(*r.max_id) : nlohmann::json()},
      {"content_sha256", r.content_sha256},
      {"content_columns",
       {"id", "symbol", "side", "quantity", "price", "timestamp",
        "client_order_id", "fee", "created_at"}},
      {"postgres_content_sha256", r.postgres_content_sha256},
      {"verified", r.verified()},
      {"checks", r.checks},
      {"failures", r.failures},
  };
  return j.dump(2) + "\n";
}

}  // namespace tradestore
