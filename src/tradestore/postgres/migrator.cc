#include "tradestore/postgres/migrator.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/embedded_sql.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

// pg_advisory_xact_lock key: "tradestr" as eight ASCII bytes.
constexpr int64_t kMigrationLockKey = 0x7472616465737472;

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " checksum TEXT NOT NULL,"
    " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())";

struct Applied {
  std::string name;
  std::string checksum;
};

std::map<int, Applied> ReadApplied(pqxx::work& txn) {
  std::map<int, Applied> applied;
  for (const auto& row :
       txn.exec("SELECT version, name, checksum FROM schema_migrations")) {
    applied[row[0].as<int>()] = {row[1].as<std::string>(),
                                 row[2].as<std::string>()};
  }
  return applied;
}

// Refuses edited files and versions this build does not know.
absl::Status CheckApplied(const std::map<int, Applied>& applied,
                          const std::vector<Migration>& migrations) {
  std::map<int, const Migration*> known;
  for (const Migration& m : migrations) known[m.version] = &m;
  for (const auto& [version, row] : applied) {
    auto it = known.find(version);
    if (it == known.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database has migration ", version, " (", row.name,
                       ") that this build does not know; upgrade tradestore"));
    }
    if (it->second->checksum != row.checksum) {
      return absl::FailedPreconditionError(
          absl::StrCat("migration ", it->second->name,
                       " was edited after it was applied "
                       "(applied sha256 ",
                       row.checksum.substr(0, 12), ", file sha256 ",
                       it->second->checksum.substr(0, 12),
                       "); never edit an applied migration, add a new one"));
    }
  }
  return absl::OkStatus();
}

// Takes each version from its file name and sorts by it; the checksums are
// given.
absl::StatusOr<std::vector<Migration>> Versioned(std::vector<Migration> out) {
  std::set<int> seen;
  for (Migration& m : out) {
    const size_t underscore = m.name.find('_');
    if (underscore == std::string::npos ||
        !absl::SimpleAtoi(m.name.substr(0, underscore), &m.version) ||
        m.version <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration file \"", m.name,
                       "\" must be named NNNN_description.sql"));
    }
    if (!seen.insert(m.version).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration version ", m.version, " appears twice"));
    }
  }
  std::sort(out.begin(), out.end(), [](const Migration& a, const Migration& b) {
    return a.version < b.version;
  });
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Migration>> MakeMigrations(
    const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<Migration> out;
  for (const auto& [name, sql] : files) {
    out.push_back({0, name, sql, internal::Sha256Hex(sql)});
  }
  return Versioned(std::move(out));
}

const std::vector<Migration>& BuiltinMigrations() {
  static const auto* migrations = [] {
    // Checksums computed by the build: hashing here would start OpenSSL
    // on every run, a cost a short incremental verify notices.
    std::vector<Migration> files;
    for (const auto& f : internal::EmbeddedMigrations()) {
      files.push_back(
          {0, std::string(f.name), std::string(f.text), std::string(f.sha256)});
    }
    auto made = Versioned(std::move(files));
    if (!made.ok()) std::abort();  // a build with badly named files
    return new std::vector<Migration>(*std::move(made));
  }();
  return *migrations;
}

absl::StatusOr<MigrateReport> Migrate(
    PgPool& pool, const std::vector<Migration>& migrations) {
  MigrateReport report;
  TS_RETURN_IF_ERROR(pg::Transact(
      pool,
      [&](pqxx::work& txn) -> absl::Status {
        report = MigrateReport();
        // Transaction-scoped: released by COMMIT or ROLLBACK, so no session
        // state is left behind on a PgBouncer server connection.
        txn.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
        txn.exec(kCreateTable);
        const auto applied = ReadApplied(txn);
        TS_RETURN_IF_ERROR(CheckApplied(applied, migrations));
        for (const Migration& m : migrations) {
          if (applied.count(m.version)) {
            ++report.already_applied;
            continue;
          }
          txn.exec(m.sql);
          txn.exec_params(
              "INSERT INTO schema_migrations (version, name, checksum) "
              "VALUES ($1, $2, $3)",
              m.version, m.name, m.checksum);
          report.applied.push_back(m.name);
        }
        report.version = migrations.empty() ? 0 : migrations.back().version;
        if (!applied.empty()) {
          report.version = std::max(report.version, applied.rbegin()->first);
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kWrite, pg::Bound::kNone));
  return report;
}

absl::StatusOr<MigrateReport> MigrateSchema(const PgOptions& options) {
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(options));
  return Migrate(*pool, BuiltinMigrations());
}

absl::StatusOr<int> AppliedSchemaVersion(PgPool& pool) {
  int version = 0;
  // Two statements, no transaction: a migration that commits between them
  // is seen by the second or by the next call.
  TS_RETURN_IF_ERROR(pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        if (!txn.exec(
                    "SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0]
                 .as<bool>()) {
          version = 0;
          return absl::OkStatus();
        }
        version =
            txn.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")
                [0][0]
                    .as<int>();
        return absl::OkStatus();
      },
      pg::Bound::kNone));
  return version;
}

absl::Status EnsureMigrated(PgPool& pool) {
  TS_ASSIGN_OR_RETURN(const int applied, AppliedSchemaVersion(pool));
  if (applied >= BuiltinMigrations().back().version) return absl::OkStatus();
  return Migrate(pool, BuiltinMigrations()).status();
}

}  // namespace tradestore
