// tradestore demo: the main job for a new user. With no --pg it starts a
// throwaway local Postgres, generates a legacy store and walks the plan's
// six migration steps with trading load running, telling what happened at
// each: schema, dual-write, backfill and verify, switch reads, remove SQLite
// writes, archive. Every phase move goes through the real gates (only the
// soak is shortened, and said so). With --ha, on a Patroni stack of its
// own, with the leader killed under the dual-write load.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/cli/demo_failover.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/migration/archive.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/migration/phase.h"
#include "tradestore/migration/quarantine.h"
#include "tradestore/ops/local_postgres.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::cli {
namespace {

Trade DemoTrade(int i) {
  Trade t;
  t.symbol = "BTC-USD";
  t.side = i % 2 ? Side::kSell : Side::kBuy;
  t.quantity = *Decimal::Parse("0.12345678");
  t.price = *Decimal::Parse("43000.00000001");
  t.timestamp = *Timestamp::Parse("2024-02-29T12:00:00.000001Z");
  t.client_order_id = absl::StrCat("demo-", i);
  return t;
}

int Fail(std::ostream& err, const absl::Status& status) {
  err << "tradestore demo: " << status.message() << "\n";
  return ExitCodeFor(status);
}

// Steps 1: the Postgres schema, and one exact round trip through it.
int CreateSchema(const std::string& dsn, std::ostream& out, std::ostream& err) {
  PgOptions options;
  options.dsn = dsn;
  auto report = MigrateSchema(options);
  if (!report.ok()) return Fail(err, report.status());
  out << "      schema at version " << report->version << " ("
      << report->applied.size() << " migration(s) applied now)\n";
  auto store = PgTradeStore::Open(options);
  if (!store.ok()) return Fail(err, store.status());
  auto written = (*store)->Insert(DemoTrade(0));
  if (!written.ok()) return Fail(err, written.status());
  auto read = (*store)->Get(written->trade.id);
  if (!read.ok()) return Fail(err, read.status());
  out << "      wrote and read back " << *read << "\n";
  // Removed again: the ids belong to the legacy store the backfill brings.
  auto pool = PgPool::Create(options);
  if (!pool.ok()) return Fail(err, pool.status());
  if (auto removed = PgMirror(pool->get()).Remove(read->id); !removed.ok()) {
    return Fail(err, removed.status());
  }
  return kExitOk;
}

// Step 2 stand-in: take the legacy file in place and read every row.
int OpenLegacy(const std::string& path, int64_t rows, std::ostream& out,
               std::ostream& err) {
  auto generated =
      GenerateLegacyStore({.path = path, .rows = rows, .bad_every = 500});
  if (!generated.ok()) return Fail(err, generated.status());
  out << "      generated " << generated->rows << " legacy trades at " << path
      << " (REAL/TEXT/INTEGER decimals, 5 timestamp forms, "
      << generated->bad_rows << " bad rows)\n";
  auto store = SqliteTradeStore::Open({.path = path});
  if (!store.ok()) return Fail(err, store.status());
  out << "      opened it in place: schema upgraded to version "
      << *(*store)->SchemaVersion() << ", no existing row rewritten\n";
  int64_t after = 0, exact = 0, bad = 0;
  ConversionNotes notes;
  std::string first_reason;
  for (;;) {
    auto chunk = (*store)->ScanStoredRows(after, 5000);
    if (!chunk.ok()) return Fail(err, chunk.status());
    if (chunk->empty()) break;
    for (const StoredRow& row : *chunk) {
      after = row.id;
      auto trade = ConvertStoredRow(row, &notes);
      if (trade.ok()) {
        ++exact;
      } else {
        if (bad++ == 0) {
          first_reason =
              absl::StrCat("row ", row.id, ": ", trade.status().message());
        }
      }
    }
  }
  out << "      read every row with the legacy rules: " << exact
      << " convert exactly (" << notes.converted_from_float
      << " values from float), " << bad << " cannot (e.g. " << first_reason
      << ")\n";
  auto written = (*store)->Insert(DemoTrade(1));
  if (!written.ok()) return Fail(err, written.status());
  out << "      wrote a new trade through the SQLite store: id "
      << written->trade.id << ", stored exactly\n";
  return kExitOk;
}

// Load through the embedded phased store, as execution-service writes.
absl::StatusOr<LoadgenReport> Load(const std::string& path,
                                   const std::string& dsn,
                                   std::chrono::milliseconds duration) {
  LoadgenOptions load;
  load.store.sqlite_path = path;
  load.store.pg.dsn = dsn;
  load.store.phase_poll = std::chrono::milliseconds(500);
  load.rate = 400;
  load.duration = duration;
  std::ostringstream quiet;
  return RunLoadgen(load, quiet);
}

void PrintLoad(const LoadgenReport& r, std::ostream& out) {
  out << absl::StrFormat(
      "      load in %s: %d writes acknowledged, %d failed; latency p50 %.2f "
      "ms, p99 %.2f ms",
      r.phase, r.acknowledged, r.failed, r.latency.p50_us / 1000.0,
      r.latency.p99_us / 1000.0);
  if (r.relay_lag.max_us > 0) {
    out << absl::StrFormat("; outbox lag p99 %.1f ms, %s",
                           r.relay_lag.p99_us / 1000.0,
                           r.drained ? "drained" : "NOT drained");
  }
  out << "\n";
}

// Moves the phase through its gates, printing the gate report.
int MovePhase(const std::string& path, const std::string& dsn, Phase to,
              std::ostream& out, std::ostream& err) {
  PgOptions options;
  options.dsn = dsn;
  auto phases = PhaseStore::Open(options);
  if (!phases.ok()) return Fail(err, phases.status());
  PhaseMoveOptions move;
  move.sqlite_path = path;
  move.target = to;
  move.min_soak = std::chrono::seconds(0);  // production: 48h
  move.changed_by = "tradestore demo";
  move.reason = "demo";
  auto moved = (*phases)->Move(move);
  if (!moved.ok()) return Fail(err, moved.status());
  for (const GateCheck& g : moved->gates) {
    out << "      gate " << (g.passed ? "ok     " : "FAILED ") << g.name << ": "
        << g.detail << "\n";
  }
  if (moved->refused) {
    err << "tradestore demo: phase move refused: " << moved->refusal << "\n";
    return kExitFailed;
  }
  out << "      phase " << PhaseName(moved->before.phase) << " -> "
      << PhaseName(to) << " (version " << moved->after->version << ")\n";
  return kExitOk;
}

absl::StatusOr<VerifyReport> Verify(const std::string& path,
                                    const std::string& dsn, bool repair) {
  VerifyOptions verify;
  verify.sqlite_path = path;
  verify.pg.dsn = dsn;
  verify.min_age = std::chrono::microseconds(0);
  verify.max_samples = 3;
  verify.repair = repair;
  std::ostringstream quiet;
  return RunVerify(verify, quiet);
}

// Step 3: backfill the legacy rows while trading goes on, verify, show a
// lost write found and repaired, and resolve the quarantine.
int BackfillAndVerify(const std::string& path, const std::string& dsn,
                      std::ostream& out, std::ostream& err) {
  absl::StatusOr<LoadgenReport> load = absl::UnknownError("not run");
  std::thread trading(
      [&] { load = Load(path, dsn, std::chrono::milliseconds(3000)); });
  BackfillOptions backfill;
  backfill.sqlite_path = path;
  backfill.pg.dsn = dsn;
  std::ostringstream quiet;
  auto copied = RunBackfill(backfill, quiet);
  trading.join();
  if (!copied.ok()) return Fail(err, copied.status());
  if (!load.ok()) return Fail(err, load.status());
  out << absl::StrFormat(
      "      backfill (while trading went on): %d rows read, %d copied "
      "exactly, %d quarantined with their reason, %d values from float, "
      "%.2f s\n",
      copied->rows_read, copied->rows_copied, copied->rows_quarantined,
      copied->converted_from_float, copied->duration_s);
  PrintLoad(*load, out);
  auto checked = Verify(path, dsn, false);
  if (!checked.ok()) return Fail(err, checked.status());
  out << "      verify: " << (checked->clean() ? "clean" : "DIFFERENCES")
      << ", " << checked->rows_matching << " rows equal in every column, "
      << checked->quarantined << " quarantined rows counted, money totals "
      << (checked->totals_match() ? "agree" : "DIFFER") << "\n";
  // A write Postgres never got, as a dual-write bug would leave it.
  const int64_t lost = copied->high_water_id;
  PgOptions options;
  options.dsn = dsn;
  auto pool = PgPool::Create(options);
  if (!pool.ok()) return Fail(err, pool.status());
  if (auto removed = PgMirror(pool->get()).Remove(lost); !removed.ok()) {
    return Fail(err, removed.status());
  }
  auto repaired = Verify(path, dsn, true);
  if (!repaired.ok()) return Fail(err, repaired.status());
  out << "      a lost write (row " << lost
      << " deleted from Postgres): verify "
      << "found " << repaired->missing_in_postgres
      << " missing, --repair copied it back from SQLite";
  auto after = Verify(path, dsn, false);
  if (!after.ok()) return Fail(err, after.status());
  out << ", verify again: " << (after->clean() ? "clean" : "DIFFERENCES")
      << "\n";
  // The generated bad rows cannot be fixed at the source: accept them.
  QuarantineOptions q;
  q.sqlite_path = path;
  q.pg.dsn = dsn;
  auto open = ListQuarantine(q, false);
  if (!open.ok()) return Fail(err, open.status());
  std::vector<int64_t> ids;
  for (const QuarantineEntry& e : *open) ids.push_back(e.source_id);
  auto accepted = AcceptQuarantined(q, ids, "demo: generated bad rows");
  if (!accepted.ok()) return Fail(err, accepted.status());
  out << "      quarantine: " << ids.size()
      << " rows accepted with a reason (`tradestore quarantine accept`)\n";
  return after->clean() && checked->clean() ? kExitOk : kExitFailed;
}

// Steps 4 and 5: a phase move with load before and after.
int SwitchWithLoad(const std::string& path, const std::string& dsn, Phase to,
                   std::ostream& out, std::ostream& err) {
  auto verified = Verify(path, dsn, false);
  if (!verified.ok()) return Fail(err, verified.status());
  out << "      verify before the move: "
      << (verified->clean() ? "clean" : "DIFFERENCES") << "\n";
  if (int rc = MovePhase(path, dsn, to, out, err); rc != kExitOk) return rc;
  auto load = Load(path, dsn, std::chrono::milliseconds(1500));
  if (!load.ok()) return Fail(err, load.status());
  PrintLoad(*load, out);
  return load->failed == 0 ? kExitOk : kExitFailed;
}

// Step 6: the archive, then the last move.
int ArchiveStore(const std::string& path, const std::string& dsn,
                 const std::string& dir, std::ostream& out, std::ostream& err) {
  ArchiveOptions archive;
  archive.sqlite_path = path;
  archive.pg.dsn = dsn;
  archive.to_dir = dir + "/archive";
  std::ostringstream quiet;
  auto written = RunArchive(archive, quiet);
  if (!written.ok()) return Fail(err, written.status());
  out << "      archive " << written->file << ": " << written->rows
      << " rows, ids " << written->min_id.value_or(0) << "-"
      << written->max_id.value_or(0) << ", "
      << (written->verified() ? "read back and matched against Postgres"
                              : "CHECK FAILED")
      << "\n";
  return MovePhase(path, dsn, Phase::kArchived, out, err);
}

// Where the demo runs: the Postgres given, a throwaway one, or an HA stack.
struct DemoTarget {
  std::unique_ptr<LocalPostgres> local;
  std::unique_ptr<DemoHaStack> ha;
  std::string dsn;
};

absl::StatusOr<DemoTarget> StartTarget(Invocation& call, const std::string& dir,
                                       bool temp_dir) {
  DemoTarget target;
  target.dsn = call.args.Get("pg").value_or("");
  std::ostream& out = call.out;
  if (call.args.Has("ha")) {
    // Run by root, the stack's servers are the postgres user's: they reach
    // their files through this directory.
    if (temp_dir) {
      std::filesystem::permissions(dir,
                                   std::filesystem::perms::owner_all |
                                       std::filesystem::perms::others_exec);
    }
    TS_ASSIGN_OR_RETURN(target.ha, DemoHaStack::Start(dir + "/stack", out));
    target.dsn = target.ha->dsn();
  } else if (target.dsn.empty()) {
    TS_ASSIGN_OR_RETURN(target.local, LocalPostgres::Start({}));
    target.dsn = target.local->Dsn();
    out << "      started a throwaway PostgreSQL on 127.0.0.1:"
        << target.local->port() << " (removed at the end)\n";
  } else {
    out << "      using " << MaskDsn(target.dsn) << "\n";
  }
  return target;
}

// Steps 2 to 6 of the plan, on the store at `path`.
int RunSteps(const std::string& path, const std::string& dir, int64_t rows,
             const DemoTarget& target, std::ostream& out, std::ostream& err) {
  const std::string& dsn = target.dsn;
  out << "[2/6] dual-write: the legacy store, taken in place\n";
  if (int rc = OpenLegacy(path, rows, out, err); rc != kExitOk) return rc;
  if (int rc = MovePhase(path, dsn, Phase::kDualWrite, out, err);
      rc != kExitOk) {
    return rc;
  }
  out << "[3/6] backfill and verify, with trades flowing through the outbox\n";
  if (int rc = BackfillAndVerify(path, dsn, out, err); rc != kExitOk) {
    return rc;
  }
  if (target.ha) {
    if (absl::Status s = KillLeaderUnderLoad(*target.ha, path, out); !s.ok()) {
      return Fail(err, s);
    }
  }
  out << "[4/6] switch reads to Postgres (soak shortened to 0 for the demo; "
         "48h by default)\n";
  if (int rc = SwitchWithLoad(path, dsn, Phase::kReadPostgres, out, err);
      rc != kExitOk) {
    return rc;
  }
  out << "[5/6] remove SQLite writes: Postgres alone, assigning ids\n";
  if (int rc = SwitchWithLoad(path, dsn, Phase::kPostgresOnly, out, err);
      rc != kExitOk) {
    return rc;
  }
  out << "[6/6] archive the SQLite file\n";
  return ArchiveStore(path, dsn, dir, out, err);
}

int RunDemo(Invocation& call) {
  std::ostream& out = call.out;
  std::ostream& err = call.err;
  if (call.args.Has("ha") && call.args.Has("pg")) {
    return call.UsageError("--ha starts a stack of its own: leave out --pg");
  }
  const int64_t rows = call.args.Count("rows").value_or(10000);
  namespace fs = std::filesystem;
  std::string dir = call.args.Get("dir").value_or("");
  const bool temp_dir = dir.empty();
  if (temp_dir) {
    char tmpl[] = "/tmp/tradestore-demo-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) {
      return Fail(err, absl::InternalError(
                           absl::StrCat("cannot create a directory in /tmp: ",
                                        std::strerror(errno))));
    }
    dir = tmpl;
  }
  fs::create_directories(dir);
  const std::string path = dir + "/trade_store.db";

  out << "tradestore demo: the migration plan on a generated store\n";
  out << "[1/6] create schema\n";
  auto target = StartTarget(call, dir, temp_dir);
  if (!target.ok()) return Fail(err, target.status());
  if (int rc = CreateSchema(target->dsn, out, err); rc != kExitOk) return rc;
  if (int rc = RunSteps(path, dir, rows, *target, out, err); rc != kExitOk) {
    return rc;
  }
  const bool had_ha = target->ha != nullptr;
  const bool had_local = target->local != nullptr;
  const std::string masked = MaskDsn(target->dsn);
  target->ha.reset();
  if (temp_dir) fs::remove_all(dir);
  out << "demo: done; every step ran against "
      << (had_ha      ? "an HA stack (now removed)"
          : had_local ? "a throwaway PostgreSQL (now removed)"
                      : masked)
      << "\n";
  return kExitOk;
}

}  // namespace

Command DemoCommand() {
  return {
      {.name = "demo",
       .summary = "a whole migration on a generated store, end to end",
       .synopsis = "[--pg DSN | --ha] [--rows N] [--dir DIR]",
       .description =
           "Runs the migration plan on a generated legacy store: create "
           "schema, dual-write, backfill, verify, switch reads, remove "
           "SQLite writes, archive, with trading load running. Without "
           "--pg a throwaway PostgreSQL is started and removed. With --ha, a "
           "3-node Patroni stack (etcd, HAProxy, PgBouncer) instead, and "
           "its leader is killed under the dual-write load: every "
           "acknowledged trade must survive.",
       .flags = {TextFlag("pg", "DSN",
                          "use this Postgres instead of a throwaway "
                          "local one"),
                 BoolFlag("ha",
                          "on a Patroni HA stack of its own, with a "
                          "failover under load"),
                 CountFlag("rows", "legacy trades to generate (default 10000)",
                           1, 100'000'000),
                 TextFlag("dir", "DIR",
                          "where to write the generated store (default: "
                          "a temp dir)")}},
      RunDemo};
}

}  // namespace tradestore::cli
