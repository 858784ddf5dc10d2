#include "tradestore/migration/phase.h"

#include <sqlite3.h>

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/sqlite/sqlite_handle.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/migration/reverse_catch_up.h"
#include "tradestore/postgres/pg_mirror.h"

namespace tradestore {
namespace {

constexpr Phase kOrder[] = {Phase::kSqliteOnly, Phase::kDualWrite,
                            Phase::kReadPostgres, Phase::kPostgresOnly,
                            Phase::kArchived};

int Rank(Phase p) { return static_cast<int>(p); }

std::string Hours(int64_t seconds) {
  return absl::StrFormat("%.1fh", static_cast<double>(seconds) / 3600.0);
}

Timestamp FromMicros(const pqxx::field& f) {
  return Timestamp::FromUnixMicros(f.as<int64_t>()).value_or(Timestamp());
}

// The gates of a forward move into `target`, read in one transaction.
std::vector<GateCheck> CheckGates(pqxx::work& txn, Phase target,
                                  const std::string& store_id,
                                  const OutboxStatus& outbox, Timestamp now,
                                  const PhaseMoveOptions& options) {
  std::vector<GateCheck> gates;
  if (target == Phase::kArchived) {
    // Taken once SQLite stopped being written, so it holds everything
    // SQLite ever will.
    const pqxx::result r = txn.exec_params(
        "SELECT a.path, a.verified, a.created_at >= p.changed_at, a.row_count "
        "FROM archives a, migration_phase p WHERE a.source_store_id = $1 "
        "ORDER BY a.created_at DESC, a.id DESC LIMIT 1",
        store_id);
    GateCheck g{"archive written and verified", false, ""};
    if (r.empty()) {
      g.detail = "no archive of this store recorded (tradestore archive)";
    } else if (!r[0][1].as<bool>()) {
      g.detail = absl::StrCat("the latest archive, ", r[0][0].as<std::string>(),
                              ", failed its checks");
    } else if (!r[0][2].as<bool>()) {
      g.detail = absl::StrCat("the latest archive, ", r[0][0].as<std::string>(),
                              ", is older than the move to postgres_only; "
                              "archive again");
    } else {
      g.passed = true;
      g.detail = absl::StrCat(r[0][0].as<std::string>(), ", ",
                              r[0][3].as<int64_t>(), " rows, verified");
    }
    gates.push_back(g);
    return gates;
  }
  // 1. The backfill of this store completed.
  {
    const pqxx::result r = txn.exec_params(
        "SELECT completed_at IS NOT NULL, last_id, high_water_id FROM "
        "backfill_checkpoints WHERE source_store_id = $1",
        store_id);
    GateCheck g{"backfill completed", false, ""};
    if (r.empty()) {
      g.detail = "no backfill of this SQLite store has run (tradestore backfill)";
    } else if (!r[0][0].as<bool>()) {
      g.detail = absl::StrCat("the backfill stopped at id ",
                              r[0][1].as<int64_t>(), " of ",
                              r[0][2].as<int64_t>(), "; run it again");
    } else {
      g.passed = true;
      g.detail = absl::StrCat("completed up to id ", r[0][2].as<int64_t>());
    }
    gates.push_back(g);
  }
  // 2. The latest verification is clean, covers every row, and is recent;
  //    no run since it found differences.
  {
    const pqxx::result r = txn.exec_params(
        "SELECT id, clean, covers_all_rows, extract(epoch FROM now() - "
        "finished_at)::int8, mismatched + missing_in_postgres + "
        "missing_in_sqlite FROM verification_runs WHERE source_store_id = $1 "
        "ORDER BY finished_at DESC, id DESC LIMIT 1",
        store_id);
    const pqxx::result full = txn.exec_params(
        "SELECT id, clean, extract(epoch FROM now() - finished_at)::int8 "
        "FROM verification_runs WHERE source_store_id = $1 AND "
        "covers_all_rows ORDER BY finished_at DESC, id DESC LIMIT 1",
        store_id);
    GateCheck g{"verification clean, complete and recent", false, ""};
    const int64_t max_age = options.max_verify_age.count();
    if (full.empty()) {
      g.detail = "no full verification recorded (tradestore verify)";
    } else if (!r[0][1].as<bool>()) {
      g.detail = absl::StrCat("the latest verification (run ",
                              r[0][0].as<int64_t>(), ") found ",
                              r[0][4].as<int64_t>(), " differences");
    } else if (!full[0][1].as<bool>()) {
      g.detail = absl::StrCat("the latest full verification (run ",
                              full[0][0].as<int64_t>(), ") was not clean");
    } else if (full[0][2].as<int64_t>() > max_age) {
      g.detail = absl::StrCat("the latest full verification is ",
                              Hours(full[0][2].as<int64_t>()),
                              " old; --max-verify-age is ", Hours(max_age));
    } else {
      g.passed = true;
      g.detail = absl::StrCat("full run ", full[0][0].as<int64_t>(),
                              " clean, ", Hours(full[0][2].as<int64_t>()),
                              " old");
    }
    gates.push_back(g);
  }
  // 3. A soak in the current phase.
  {
    const pqxx::result r =
        txn.exec("SELECT extract(epoch FROM now() - changed_at)::int8, phase "
                 "FROM migration_phase");
    const int64_t soaked = r[0][0].as<int64_t>();
    const int64_t needed = options.min_soak.count();
    GateCheck g{absl::StrCat("soak in ", r[0][1].as<std::string>()),
                soaked >= needed, ""};
    g.detail = absl::StrCat(Hours(soaked), " so far; --min-soak is ",
                            Hours(needed));
    gates.push_back(g);
  }
  // 4. The dual-write outbox drained: nothing waiting longer than the
  //    allowed lag (a busy service always has a few entries in flight).
  {
    GateCheck g{"outbox drained", true, "the outbox is empty"};
    if (outbox.entries > 0 && outbox.oldest) {
      const int64_t age_ms =
          (now.unix_micros() - outbox.oldest->unix_micros()) / 1000;
      g.passed = age_ms <= options.max_outbox_lag.count();
      g.detail = absl::StrCat(outbox.entries, " entries waiting, the oldest ",
                              age_ms, " ms; allowed lag is ",
                              options.max_outbox_lag.count(), " ms",
                              g.passed ? "" : " (is the relay running?)");
    }
    gates.push_back(g);
  }
  // 5. No quarantined row left unresolved.
  {
    const int64_t open =
        txn.exec("SELECT count(*) FROM trades_quarantine WHERE resolution "
                 "IS NULL")[0][0]
            .as<int64_t>();
    gates.push_back({"quarantine resolved", open == 0,
                     open == 0 ? "no unresolved row"
                               : absl::StrCat(open,
                                              " quarantined rows unresolved "
                                              "(retry or accept them)")});
  }
  return gates;
}

// Why a move is not allowed at all, whatever the gates say ("" if allowed).
std::string MoveRule(Phase from, Phase to) {
  if (from == to) return absl::StrCat("the phase is already ", PhaseName(to));
  if (from == Phase::kArchived) {
    return "archived is final: the SQLite file is archived and never opened "
           "again";
  }
  if (Rank(to) > Rank(from) + 1) {
    return absl::StrCat("no skipping: from ", PhaseName(from), " the next phase is ",
                        PhaseName(kOrder[Rank(from) + 1]));
  }
  if (Rank(to) < Rank(from) - 1) {
    return absl::StrCat("roll back one phase at a time: from ", PhaseName(from),
                        " back is ", PhaseName(kOrder[Rank(from) - 1]));
  }
  return "";
}

}  // namespace

absl::Status MirrorPhaseIntoSqlite(SqliteTradeStore& store,
                                   const PhaseState& s) {
  return store.SetMeta({{"phase", PhaseName(s.phase)},
                        {"phase_version", std::to_string(s.version)},
                        {"phase_changed_at", s.changed_at.ToIso8601()}});
}

absl::Status MirrorPhaseIntoSqlite(const std::string& path,
                                   const PhaseState& s) {
  TS_ASSIGN_OR_RETURN(auto store,
                      SqliteTradeStore::Open({.path = path,
                                              .create_if_missing = false,
                                              .reader_connections = 1}));
  return MirrorPhaseIntoSqlite(*store, s);
}

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kSqliteOnly: return "sqlite_only";
    case Phase::kDualWrite: return "dual_write";
    case Phase::kReadPostgres: return "read_postgres";
    case Phase::kPostgresOnly: return "postgres_only";
    case Phase::kArchived: return "archived";
  }
  return "?";
}

absl::StatusOr<Phase> ParsePhase(absl::string_view text) {
  for (Phase p : kOrder) {
    if (text == PhaseName(p)) return p;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "phase: \"", text, "\" is not one of sqlite_only, dual_write, "
      "read_postgres, postgres_only, archived"));
}

struct PhaseStore::Impl {
  std::unique_ptr<PgPool> pool;
};

PhaseStore::PhaseStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PhaseStore::~PhaseStore() = default;

absl::StatusOr<std::unique_ptr<PhaseStore>> PhaseStore::Open(
    const PgOptions& options) {
  auto impl = std::make_unique<Impl>();
  TS_ASSIGN_OR_RETURN(impl->pool, PgPool::Create(options));
  TS_RETURN_IF_ERROR(EnsureMigrated(*impl->pool));
  return std::unique_ptr<PhaseStore>(new PhaseStore(std::move(impl)));
}

namespace {
absl::StatusOr<PhaseState> ReadState(pqxx::work& txn, bool for_update) {
  const pqxx::result r = txn.exec(absl::StrCat(
      "SELECT phase, version, changed_by, (extract(epoch FROM changed_at) * "
      "1000000)::int8, reason FROM migration_phase",
      for_update ? " FOR UPDATE" : ""));
  if (r.empty()) return absl::FailedPreconditionError("migration_phase is empty");
  PhaseState s;
  TS_ASSIGN_OR_RETURN(s.phase, ParsePhase(r[0][0].as<std::string>()));
  s.version = r[0][1].as<int64_t>();
  s.changed_by = r[0][2].as<std::string>();
  s.changed_at = FromMicros(r[0][3]);
  s.reason = r[0][4].as<std::string>();
  return s;
}
}  // namespace

absl::StatusOr<PhaseState> PhaseStore::Current() {
  PhaseState state;
  TS_RETURN_IF_ERROR(pg::Transact(*impl_->pool, 
      [&](pqxx::work& txn) -> absl::Status {
        TS_ASSIGN_OR_RETURN(state, ReadState(txn, false));
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return state;
}

absl::StatusOr<std::vector<PhaseChange>> PhaseStore::History() {
  std::vector<PhaseChange> history;
  TS_RETURN_IF_ERROR(pg::Transact(*impl_->pool, 
      [&](pqxx::work& txn) -> absl::Status {
        history.clear();
        for (const auto& row : txn.exec(
                 "SELECT version, from_phase, to_phase, changed_by, "
                 "(extract(epoch FROM changed_at) * 1000000)::int8, reason, "
                 "forced FROM migration_phase_history ORDER BY version")) {
          PhaseChange c;
          c.version = row[0].as<int64_t>();
          if (!row[1].is_null()) {
            TS_ASSIGN_OR_RETURN(c.from, ParsePhase(row[1].as<std::string>()));
          }
          TS_ASSIGN_OR_RETURN(c.to, ParsePhase(row[2].as<std::string>()));
          c.changed_by = row[3].as<std::string>();
          c.changed_at = FromMicros(row[4]);
          c.reason = row[5].as<std::string>();
          c.forced = row[6].as<bool>();
          history.push_back(std::move(c));
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  return history;
}

absl::StatusOr<PhaseMoveResult> PhaseStore::Move(
    const PhaseMoveOptions& options) {
  if (options.force && options.reason.empty()) {
    return absl::InvalidArgumentError("--force needs --reason TEXT");
  }
  TS_ASSIGN_OR_RETURN(auto store,
                      SqliteTradeStore::Open({.path = options.sqlite_path,
                                              .create_if_missing = false,
                                              .reader_connections = 1}));
  const std::string store_id = store->store_id();
  TS_ASSIGN_OR_RETURN(OutboxStatus outbox, store->GetOutboxStatus());
  // Rolling back from postgres_only: copy what Postgres took alone into
  // SQLite first. Version-guarded and repeatable, so it runs before the
  // move's transaction; a service switching back repeats it for the writes
  // it made meanwhile.
  std::optional<GateCheck> catch_up;
  {
    TS_ASSIGN_OR_RETURN(PhaseState now_state, Current());
    if (now_state.phase == Phase::kPostgresOnly &&
        options.target == Phase::kReadPostgres) {
      const Timestamp since = CatchUpSince(now_state.changed_at);
      catch_up = GateCheck{"reverse catch-up into SQLite", true, ""};
      if (options.dry_run) {
        catch_up->detail = absl::StrCat(
            "would copy the trades Postgres changed since ", since.ToIso8601());
      } else {
        PgMirror mirror(impl_->pool.get());
        auto caught = ReverseCatchUp(mirror, *store, now_state.changed_at);
        if (caught.ok()) {
          catch_up->detail = absl::StrCat(
              "copied ", caught->written, " of ", caught->read,
              " trades Postgres changed since ", since.ToIso8601());
        } else {
          catch_up->passed = false;
          catch_up->detail = std::string(caught.status().message());
        }
      }
    }
  }
  PhaseMoveResult result;
  TS_RETURN_IF_ERROR(pg::Transact(*impl_->pool, [&](pqxx::work& txn) -> absl::Status {
    result = PhaseMoveResult();
    // FOR UPDATE: two operators moving at once are serialised, and the
    // second sees the first one's phase.
    TS_ASSIGN_OR_RETURN(result.before, ReadState(txn, true));
    const Phase from = result.before.phase;
    const Phase to = options.target;
    if (std::string rule = MoveRule(from, to); !rule.empty()) {
      result.refused = true;
      result.refusal = rule;
      return absl::OkStatus();
    }
    const bool forward = Rank(to) > Rank(from);
    if (forward && Rank(to) >= Rank(Phase::kReadPostgres)) {
      result.gates = CheckGates(txn, to, store_id, outbox,
                                impl_->pool->clock()->Now(), options);
    }
    if (from == Phase::kPostgresOnly && to == Phase::kReadPostgres) {
      result.gates.push_back(
          catch_up.value_or(GateCheck{"reverse catch-up into SQLite", false,
                                      "the phase changed while checking; "
                                      "run the move again"}));
    }
    std::vector<std::string> failed;
    for (const GateCheck& g : result.gates) {
      if (!g.passed) failed.push_back(absl::StrCat(g.name, ": ", g.detail));
    }
    if (!failed.empty() && !options.force) {
      result.refused = true;
      result.refusal = absl::StrCat("refused: ", absl::StrJoin(failed, "; "));
      return absl::OkStatus();
    }
    if (options.dry_run) return absl::OkStatus();
    nlohmann::json gates = nlohmann::json::array();
    for (const GateCheck& g : result.gates) {
      gates.push_back({{"gate", g.name}, {"passed", g.passed}, {"detail", g.detail}});
    }
    const std::string reason =
        options.reason.empty() ? "(no reason given)" : options.reason;
    const int64_t version = result.before.version + 1;
    txn.exec_params(
        "UPDATE migration_phase SET phase = $1, version = $2, changed_by = $3, "
        "changed_at = now(), reason = $4",
        std::string(PhaseName(to)), version, options.changed_by, reason);
    txn.exec_params(
        "INSERT INTO migration_phase_history (version, from_phase, to_phase, "
        "changed_by, reason, forced, gates) VALUES ($1, $2, $3, $4, $5, $6, "
        "$7::jsonb)",
        version, std::string(PhaseName(from)), std::string(PhaseName(to)),
        options.changed_by, reason, options.force && !failed.empty(),
        gates.dump());
    TS_ASSIGN_OR_RETURN(PhaseState after, ReadState(txn, false));
    result.after = after;
    return absl::OkStatus();
  }));
  if (result.after && result.after->phase == Phase::kPostgresOnly) {
    // Postgres assigns ids from now on: past every id SQLite gave, even
    // when no running service makes the switch itself.
    TS_RETURN_IF_ERROR(PgMirror(impl_->pool.get()).AdvanceSequence().status());
  }
  if (result.after) {
    // After the commit: Postgres is where the phase lives; the mirror lets a
    // service restarted during an outage know it. A failure here is
    // reported, not an error: the move is made.
    absl::Status mirrored = MirrorPhaseIntoSqlite(*store, *result.after);
    if (!mirrored.ok()) {
      result.mirror_warning = absl::StrCat(
          "the phase moved, but mirroring it into ", options.sqlite_path,
          " failed (", mirrored.message(),
          "); running services mirror it themselves within a poll");
    }
  }
  return result;
}

absl::StatusOr<std::optional<PhaseState>> ReadSqlitePhase(
    const std::string& sqlite_path) {
  TS_ASSIGN_OR_RETURN(auto db, sqlite::SqliteDb::Open(
                                   sqlite_path, SQLITE_OPEN_READONLY, 5000));
  TS_ASSIGN_OR_RETURN(
      sqlite::Statement get,
      db->Prepare("SELECT key, value FROM tradestore_meta WHERE key IN "
                  "('phase', 'phase_version', 'phase_changed_at')"));
  std::optional<PhaseState> state;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, get.Step());
    if (!row) break;
    if (!state) state = PhaseState();
    const std::string key = get.ColumnText(0), value = get.ColumnText(1);
    if (key == "phase") {
      TS_ASSIGN_OR_RETURN(state->phase, ParsePhase(value));
    } else if (key == "phase_version") {
      state->version = std::atoll(value.c_str());
    } else {
      state->changed_at = Timestamp::Parse(value).value_or(Timestamp());
    }
  }
  return state;
}

}  // namespace tradestore
