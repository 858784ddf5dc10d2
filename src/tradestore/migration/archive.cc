#include "tradestore/migration/archive.h"

#include <zlib.h>

#include <pqxx/pqxx>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/sha256.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/sqlite/sqlite_backup.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/pg_copy_out.h"
#include "tradestore/verify/row_text.h"

namespace tradestore {
namespace {

namespace fs = std::filesystem;

// Fields of the canonical line that never change once a trade is written:
// id, symbol, side, quantity, price, timestamp, client_order_id, fee,
// created_at (verify::kColumns order).
constexpr int kImmutableFields[] = {0, 1, 2, 3, 4, 5, 7, 8, 10};

void HashImmutable(internal::Sha256& sha, absl::string_view line) {
  const auto fields = verify::SplitFields(line);
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
              verify::AppendRowText(&line, *trade);
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
    TS_RETURN_IF_ERROR(verify::CopyOut(
        pool,
        absl::StrCat("SELECT ", verify::kPgSelectColumns,
                     " FROM trades WHERE id BETWEEN ", *like.min_id, " AND ",
                     *like.max_id, " ORDER BY id"),
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

absl::Status Gzip(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  gzFile out = gzopen(to.c_str(), "wb6");
  if (!in || out == nullptr) {
    if (out != nullptr) gzclose(out);
    return absl::InternalError(absl::StrCat("cannot compress ", from, " to ", to));
  }
  std::string buffer(1 << 16, '\0');
  bool ok = true;
  while (ok && in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = static_cast<unsigned>(in.gcount());
    ok = n == 0 || gzwrite(out, buffer.data(), n) == static_cast<int>(n);
  }
  ok = gzclose(out) == Z_OK && ok;
  if (!ok) return absl::InternalError(absl::StrCat("writing ", to, " failed"));
  return absl::OkStatus();
}

absl::Status Gunzip(const std::string& from, const std::string& to) {
  gzFile in = gzopen(from.c_str(), "rb");
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (in == nullptr || !out) {
    if (in != nullptr) gzclose(in);
    return absl::InternalError(absl::StrCat("cannot decompress ", from));
  }
  std::string buffer(1 << 16, '\0');
  int n = 0;
  while ((n = gzread(in, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {
    out.write(buffer.data(), n);
  }
  const bool ok = n == 0 && gzclose(in) == Z_OK && out.good();
  if (!ok) {
    return absl::DataLossError(absl::StrCat(from, " does not decompress"));
  }
  return absl::OkStatus();
}

void RemoveDatabase(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(path + suffix, ignored);
  }
}

std::string Stamp() {
  std::string iso = Clock::Real()->Now().ToIso8601();  // 2026-11-24T20:11:17.123456Z
  iso = absl::StrReplaceAll(iso, {{"-", ""}, {":", ""}, {".", ""}});
  return iso;
}

void Compare(ArchiveReport& r, bool same, std::string check) {
  (same ? r.checks : r.failures).push_back(std::move(check));
}

}  // namespace

absl::StatusOr<ArchiveReport> RunArchive(const ArchiveOptions& options,
                                         std::ostream& log) {
  std::string store_id;
  {
    TS_ASSIGN_OR_RETURN(auto source,
                        SqliteTradeStore::Open({.path = options.sqlite_path,
                                                .create_if_missing = false,
                                                .require_trades_table = true,
                                                .reader_connections = 1}));
    store_id = source->store_id();
  }
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(options.pg));
  TS_RETURN_IF_ERROR(EnsureMigrated(*pool));

  std::error_code ec;
  fs::create_directories(options.to_dir, ec);
  const std::string base =
      (fs::path(options.to_dir) / absl::StrCat("trade_store-", Stamp())).string();
  const std::string raw = base + ".db.tmp", check = base + ".check.tmp";
  ArchiveReport report;
  report.file = base + ".db.gz";
  report.manifest = base + ".manifest.json";

  log << "archive: backing up " << options.sqlite_path << std::endl;
  TS_RETURN_IF_ERROR(sqlite::BackupDatabase(options.sqlite_path, raw));
  auto digest = SqliteDigest(raw);
  if (!digest.ok()) {
    RemoveDatabase(raw);
    return digest.status();
  }
  report.rows = digest->rows;
  report.exact_rows = digest->exact_rows;
  report.min_id = digest->min_id;
  report.max_id = digest->max_id;
  report.content_sha256 = digest->sha256;
  absl::Status zipped = sqlite::UseRollbackJournal(raw);
  if (zipped.ok()) zipped = Gzip(raw, report.file);
  RemoveDatabase(raw);
  TS_RETURN_IF_ERROR(zipped);
  TS_ASSIGN_OR_RETURN(report.file_sha256, internal::Sha256OfFile(report.file));

  // Read it back as a restore would.
  log << "archive: reading " << report.file << " back" << std::endl;
  absl::Status readable = Gunzip(report.file, check);
  if (readable.ok()) readable = sqlite::CheckIntegrity(check);
  Compare(report, readable.ok(),
          readable.ok() ? "the archive decompresses and passes SQLite's "
                          "integrity_check"
                        : std::string(readable.message()));
  if (readable.ok()) {
    auto again = SqliteDigest(check);
    Compare(report,
            again.ok() && again->rows == report.rows &&
                again->sha256 == report.content_sha256,
            again.ok() ? absl::StrCat("read back: ", again->rows,
                                      " rows, content hash ",
                                      again->sha256 == report.content_sha256
                                          ? "equal"
                                          : "DIFFERENT")
                       : std::string(again.status().message()));
  }
  RemoveDatabase(check);

  TS_ASSIGN_OR_RETURN(Digest pg, PostgresDigest(*pool, *digest));
  report.postgres_content_sha256 = pg.sha256;
  Compare(report, pg.rows == report.exact_rows && pg.sha256 == report.content_sha256,
          absl::StrCat("Postgres holds ", pg.rows, " trades in ids ",
                       report.min_id.value_or(0), "-", report.max_id.value_or(0),
                       " (the archive has ", report.exact_rows,
                       " exact rows); immutable columns ",
                       pg.sha256 == report.content_sha256 ? "equal" : "DIFFERENT"));

  std::ofstream(report.manifest + ".tmp") << ArchiveJson(report);
  fs::rename(report.manifest + ".tmp", report.manifest, ec);
  if (ec) return absl::InternalError(absl::StrCat("writing ", report.manifest, ": ", ec.message()));

  TS_RETURN_IF_ERROR(pool->Transact([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO archives (source_store_id, path, file_sha256, row_count, "
        "exact_rows, min_id, max_id, content_sha256, postgres_content_sha256, "
        "verified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        store_id, fs::absolute(report.file).string(), report.file_sha256,
        report.rows, report.exact_rows, report.min_id, report.max_id,
        report.content_sha256, report.postgres_content_sha256,
        report.verified());
    return absl::OkStatus();
  }));
  return report;
}

std::string ArchiveJson(const ArchiveReport& r) {
  nlohmann::json j = {
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
