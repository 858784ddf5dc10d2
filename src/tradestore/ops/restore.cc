#include "tradestore/ops/restore.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/process.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/object_store.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/work_dir.h"
#include "tradestore/postgres/database_facts.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore::ops {
namespace {

double Since(Clock* clock, std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(clock->Monotonic() - start).count();
}

// The name of the backup to restore: the one asked for, or the latest.
absl::StatusOr<std::string> Choose(const RestoreOptions& o) {
  TS_ASSIGN_OR_RETURN(auto entries, ListBackups(o.from));
  if (o.backup.empty()) {
    if (entries.empty()) {
      return absl::NotFoundError(absl::StrCat("no backup at ", o.from));
    }
    return entries.back().name;
  }
  for (const BackupEntry& e : entries) {
    if (e.name == o.backup) return e.name;
  }
  return absl::NotFoundError(
      absl::StrCat("no complete backup ", o.backup, " at ", o.from));
}

// Fetches the backup, and checks the dump against its manifest.
absl::StatusOr<BackupManifest> Fetch(ObjectStore& store,
                                     const std::string& name, WorkDir& work) {
  const std::string manifest_file = work.File(name + ".json");
  TS_RETURN_IF_ERROR(store.Download(name + ".json", manifest_file));
  TS_ASSIGN_OR_RETURN(
      BackupManifest m,
      BackupManifest::FromJson(internal::ReadWholeFile(manifest_file)));
  // pg_restore -j reads the dump out of order: it must be a local file.
  TS_RETURN_IF_ERROR(store.Download(m.dump, work.File(m.dump)));
  TS_ASSIGN_OR_RETURN(const std::string sha,
                      internal::Sha256OfFile(work.File(m.dump)));
  if (sha != m.sha256) {
    return absl::DataLossError(absl::StrCat(
        "the dump ", m.dump, " has sha256 ", sha, ", its manifest says ",
        m.sha256, ": not restored (nothing was touched)"));
  }
  return m;
}

absl::Status PgRestore(const std::string& dsn, const std::string& database,
                       const std::string& file, const RestoreOptions& o) {
  TS_ASSIGN_OR_RETURN(auto pg_env, DsnEnvironment(dsn));
  internal::EnvChanges env(pg_env.begin(), pg_env.end());
  env.emplace_back("PGAPPNAME", "tradestore restore");
  std::vector<std::string> argv = {FindPostgresBinDir() + "/pg_restore",
                                   "--exit-on-error", "--no-password",
                                   absl::StrCat("--jobs=", o.jobs)};
  if (o.clean) {
    argv.push_back("--clean");
    argv.push_back("--if-exists");
  }
  if (!o.owners) {
    argv.push_back("--no-owner");
    argv.push_back("--no-privileges");
  }
  // The server and the credentials come from the environment; pg_restore
  // needs the database named to restore into it at all.
  TS_ASSIGN_OR_RETURN(const std::string only_db, DsnWithDatabase("", database));
  argv.push_back("--dbname=" + only_db);
  argv.push_back(file);
  TS_ASSIGN_OR_RETURN(auto r, internal::RunCommand(argv, "", env));
  if (r.exit_code != 0) {
    return absl::InternalError(absl::StrCat("pg_restore failed: ", r.output));
  }
  return absl::OkStatus();
}

// Restores into `dsn` and digests what arrived.
absl::Status RestoreInto(const std::string& dsn, const std::string& dump,
                         const RestoreOptions& o, Clock* clock,
                         RestoreReport& report) {
  PgOptions target = o.target;
  target.dsn = dsn;
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(target));
  TS_ASSIGN_OR_RETURN(report.database, CurrentDatabase(*pool));
  if (!o.clean) {
    TS_ASSIGN_OR_RETURN(const bool has_tables, DatabaseHasTables(*pool));
    if (has_tables) {
      return absl::FailedPreconditionError(absl::StrCat(
          "database ", report.database,
          " already holds tables: restore into an empty one, or give "
          "--clean to drop what the backup holds first (nothing was "
          "touched)"));
    }
  }
  auto start = clock->Monotonic();
  TS_RETURN_IF_ERROR(PgRestore(dsn, report.database, dump, o));
  report.restore_s = Since(clock, start);
  start = clock->Monotonic();
  TS_ASSIGN_OR_RETURN(report.restored, DigestTrades(*pool));
  report.check_s = Since(clock, start);
  report.matches = report.restored.rows == report.manifest.trades.rows &&
                   report.restored.max_id == report.manifest.trades.max_id &&
                   report.restored.sha256 == report.manifest.trades.sha256;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreReport> RunRestore(const RestoreOptions& o,
                                         std::ostream& log) {
  Clock* clock = o.clock != nullptr ? o.clock : Clock::Real();
  const auto start = clock->Monotonic();
  TS_ASSIGN_OR_RETURN(ObjectStore store, ObjectStore::Parse(o.from));
  RestoreReport report;
  report.source = store.display();
  report.drill = o.drill;
  TS_ASSIGN_OR_RETURN(const std::string name, Choose(o));
  TS_ASSIGN_OR_RETURN(auto work, WorkDir::Create());
  log << "restore: fetching " << name << " from " << store.display()
      << std::endl;
  TS_ASSIGN_OR_RETURN(report.manifest, Fetch(store, name, *work));
  report.fetch_s = Since(clock, start);
  const std::string dump = work->File(report.manifest.dump);
  if (!o.drill) {
    log << "restore: into " << MaskDsn(o.target.dsn) << std::endl;
    TS_RETURN_IF_ERROR(RestoreInto(o.target.dsn, dump, o, clock, report));
  } else {
    // A scratch database beside the others, dropped whatever happens.
    TS_ASSIGN_OR_RETURN(auto admin, PgPool::Create(o.target));
    const std::string scratch = BackupName("tradestore_drill", clock->Now());
    TS_RETURN_IF_ERROR(CreateDatabase(*admin, scratch));
    log << "restore: drill into scratch database " << scratch << std::endl;
    absl::Status restored = [&]() -> absl::Status {
      TS_ASSIGN_OR_RETURN(const std::string dsn,
                          DsnWithDatabase(o.target.dsn, scratch));
      return RestoreInto(dsn, dump, o, clock, report);
    }();
    const absl::Status dropped = DropDatabase(*admin, scratch);
    TS_RETURN_IF_ERROR(restored);
    TS_RETURN_IF_ERROR(dropped);
  }
  report.rto_s = Since(clock, start);
  return report;
}

std::string RestoreReport::ToJson() const {
  return nlohmann::json{{"backup", manifest.name},
                        {"source", source},
                        {"database", database},
                        {"drill", drill},
                        {"matches", matches},
                        {"rto_s", rto_s},
                        {"fetch_s", fetch_s},
                        {"restore_s", restore_s},
                        {"check_s", check_s},
                        {"backup_created_at", manifest.created_at.ToIso8601()},
                        {"trades",
                         {{"rows", restored.rows},
                          {"expected_rows", manifest.trades.rows},
                          {"sha256", restored.sha256},
                          {"expected_sha256", manifest.trades.sha256}}}}
             .dump(2) +
         "\n";
}

std::string RestoreReport::ToPrometheus() const {
  const std::string job =
      absl::StrCat("tradestore_", drill ? "restore_drill" : "restore");
  return PromText()
      .Gauge(job + "_rto_seconds", "Fetch, restore and check, measured.", rto_s)
      .Gauge(job + "_matches", "1 when the restored trades equal the backup's.",
             matches ? 1 : 0)
      .Gauge(job + "_backup_timestamp_seconds", "When the backup was taken.",
             std::floor(manifest.created_at.unix_micros() / 1e6))
      .Take();
}

void RestoreReport::PrintSummary(std::ostream& out) const {
  out << absl::StrFormat(
      "restore%s: %s from %s into %s\n  trades %d of %d, content %s\n  "
      "fetch %.2f s, restore %.2f s, check %.2f s: RTO %.2f s\n",
      drill ? " drill" : "", manifest.name, source, database, restored.rows,
      manifest.trades.rows, matches ? "equal to the backup's" : "DIFFERENT",
      fetch_s, restore_s, check_s, rto_s);
}

}  // namespace tradestore::ops
