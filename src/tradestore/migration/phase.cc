#include "tradestore/migration/phase.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/migration/reverse_catch_up.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/phase_repository.h"
#include "tradestore/sqlite/phase_mirror.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore {
namespace {

constexpr Phase kOrder[] = {Phase::kSqliteOnly, Phase::kDualWrite,
                            Phase::kReadPostgres, Phase::kPostgresOnly,
                            Phase::kArchived};

int Rank(Phase p) { return static_cast<int>(p); }

std::string Hours(int64_t seconds) {
  return absl::StrFormat("%.1fh", static_cast<double>(seconds) / 3600.0);
}

GateCheck ArchiveGate(const GateFacts& facts) {
  // Taken once SQLite stopped being written, so it holds everything SQLite
  // ever will.
  GateCheck g{"archive written and verified", false, ""};
  const auto& a = facts.archive;
  if (!a) {
    g.detail = "no archive of this store recorded (tradestore archive)";
  } else if (!a->verified) {
    g.detail =
        absl::StrCat("the latest archive, ", a->path, ", failed its checks");
  } else if (!a->after_phase_change) {
    g.detail = absl::StrCat("the latest archive, ", a->path,
                            ", is older than the move to postgres_only; "
                            "archive again");
  } else {
    g.passed = true;
    g.detail = absl::StrCat(a->path, ", ", a->rows, " rows, verified");
  }
  return g;
}

GateCheck BackfillGate(const GateFacts& facts) {
  GateCheck g{"backfill completed", false, ""};
  const auto& b = facts.backfill;
  if (!b) {
    g.detail = "no backfill of this SQLite store has run (tradestore backfill)";
  } else if (!b->completed) {
    g.detail = absl::StrCat("the backfill stopped at id ", b->last_id, " of ",
                            b->high_water_id, "; run it again");
  } else {
    g.passed = true;
    g.detail = absl::StrCat("completed up to id ", b->high_water_id);
  }
  return g;
}

// The latest verification is clean, covers every row, and is recent; no
// run since it found differences.
GateCheck VerificationGate(const GateFacts& facts,
                           const PhaseMoveOptions& options) {
  GateCheck g{"verification clean, complete and recent", false, ""};
  const int64_t max_age = options.max_verify_age.count();
  const auto& full = facts.latest_full;
  if (!full) {
    g.detail = "no full verification recorded (tradestore verify)";
  } else if (facts.latest && !facts.latest->clean) {
    g.detail =
        absl::StrCat("the latest verification (run ", facts.latest->run_id,
                     ") found ", facts.latest->differences, " differences");
  } else if (!full->clean) {
    g.detail = absl::StrCat("the latest full verification (run ", full->run_id,
                            ") was not clean");
  } else if (full->age_s > max_age) {
    g.detail =
        absl::StrCat("the latest full verification is ", Hours(full->age_s),
                     " old; --max-verify-age is ", Hours(max_age));
  } else {
    g.passed = true;
    g.detail = absl::StrCat("full run ", full->run_id, " clean, ",
                            Hours(full->age_s), " old");
  }
  return g;
}

// The dual-write outbox drained: nothing waiting longer than the allowed
// lag (a busy service always has a few entries in flight).
GateCheck OutboxGate(const OutboxStatus& outbox, Timestamp now,
                     const PhaseMoveOptions& options) {
  GateCheck g{"outbox drained", true, "the outbox is empty"};
  if (outbox.entries > 0 && outbox.oldest) {
    const int64_t age_ms =
        (now.unix_micros() - outbox.oldest->unix_micros()) / 1000;
    g.passed = age_ms <= options.max_outbox_lag.count();
    g.detail =
        absl::StrCat(outbox.entries, " entries waiting, the oldest ", age_ms,
                     " ms; allowed lag is ", options.max_outbox_lag.count(),
                     " ms", g.passed ? "" : " (is the relay running?)");
  }
  return g;
}

}  // namespace

std::vector<GateCheck> CheckGates(Phase target, const GateFacts& facts,
                                  const OutboxStatus& outbox, Timestamp now,
                                  const PhaseMoveOptions& options) {
  if (target == Phase::kArchived) return {ArchiveGate(facts)};
  const int64_t needed = options.min_soak.count();
  const int64_t open = facts.unresolved_quarantine;
  return {
      BackfillGate(facts),
      VerificationGate(facts, options),
      {absl::StrCat("soak in ", PhaseName(kOrder[Rank(target) - 1])),
       facts.soak_s >= needed,
       absl::StrCat(Hours(facts.soak_s), " so far; --min-soak is ",
                    Hours(needed))},
      OutboxGate(outbox, now, options),
      {"quarantine resolved", open == 0,
       open == 0 ? "no unresolved row"
                 : absl::StrCat(open,
                                " quarantined rows unresolved (retry or "
                                "accept them)")},
  };
}

namespace {

// Why a move is not allowed at all, whatever the gates say ("" if allowed).
std::string MoveRule(Phase from, Phase to) {
  if (from == to) return absl::StrCat("the phase is already ", PhaseName(to));
  if (from == Phase::kArchived) {
    return "archived is final: the SQLite file is archived and never opened "
           "again";
  }
  if (Rank(to) > Rank(from) + 1) {
    return absl::StrCat("no skipping: from ", PhaseName(from),
                        " the next phase is ",
                        PhaseName(kOrder[Rank(from) + 1]));
  }
  if (Rank(to) < Rank(from) - 1) {
    return absl::StrCat("roll back one phase at a time: from ", PhaseName(from),
                        " back is ", PhaseName(kOrder[Rank(from) - 1]));
  }
  return "";
}

}  // namespace

struct PhaseStore::Impl {
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<PhaseRepository> phases;
};

PhaseStore::PhaseStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PhaseStore::~PhaseStore() = default;

absl::StatusOr<std::unique_ptr<PhaseStore>> PhaseStore::Open(
    const PgOptions& options) {
  auto impl = std::make_unique<Impl>();
  TS_ASSIGN_OR_RETURN(impl->pool, PgPool::Create(options));
  TS_RETURN_IF_ERROR(EnsureMigrated(*impl->pool));
  impl->phases = std::make_unique<PhaseRepository>(impl->pool.get());
  return std::unique_ptr<PhaseStore>(new PhaseStore(std::move(impl)));
}

absl::StatusOr<PhaseState> PhaseStore::Current() {
  return impl_->phases->Current();
}

absl::StatusOr<std::vector<PhaseChange>> PhaseStore::History() {
  return impl_->phases->History();
}

namespace {

// Rolling back from postgres_only: copies what Postgres took alone into
// SQLite first (or, in a dry run, says it would). Version-guarded and
// repeatable, so it runs before the move's transaction; a service switching
// back repeats it for the writes it made meanwhile. nullopt for any other
// move.
std::optional<GateCheck> CatchUpBeforeRollback(PgPool* pool,
                                               const PhaseState& now,
                                               const PhaseMoveOptions& options,
                                               SqliteTradeStore& store) {
  if (now.phase != Phase::kPostgresOnly ||
      options.target != Phase::kReadPostgres) {
    return std::nullopt;
  }
  const Timestamp since = CatchUpSince(now.changed_at);
  GateCheck check{"reverse catch-up into SQLite", true, ""};
  if (options.dry_run) {
    check.detail = absl::StrCat("would copy the trades Postgres changed since ",
                                since.ToIso8601());
    return check;
  }
  PgMirror mirror(pool);
  auto caught = ReverseCatchUp(mirror, store, now.changed_at);
  if (caught.ok()) {
    check.detail =
        absl::StrCat("copied ", caught->written, " of ", caught->read,
                     " trades Postgres changed since ", since.ToIso8601());
  } else {
    check.passed = false;
    check.detail = std::string(caught.status().message());
  }
  return check;
}

// What the move's transaction sees when it holds the phase row.
struct MoveContext {
  const PhaseMoveOptions& options;
  const OutboxStatus& outbox;
  const std::optional<GateCheck>& catch_up;
  Timestamp now;
};

// Whether to move from `before`, given the facts: the decision, or nullopt
// with `result` saying why not (or that it was a dry run).
std::optional<PhaseDecision> Decide(const MoveContext& c,
                                    const PhaseState& before,
                                    const GateFacts& facts,
                                    PhaseMoveResult& result) {
  result = PhaseMoveResult();
  result.before = before;
  const Phase from = before.phase;
  const Phase to = c.options.target;
  if (std::string rule = MoveRule(from, to); !rule.empty()) {
    result.refused = true;
    result.refusal = rule;
    return std::nullopt;
  }
  if (Rank(to) > Rank(from) && Rank(to) >= Rank(Phase::kReadPostgres)) {
    result.gates = CheckGates(to, facts, c.outbox, c.now, c.options);
  }
  if (from == Phase::kPostgresOnly && to == Phase::kReadPostgres) {
    result.gates.push_back(
        c.catch_up.value_or(GateCheck{"reverse catch-up into SQLite", false,
                                      "the phase changed while checking; "
                                      "run the move again"}));
  }
  std::vector<std::string> failed;
  for (const GateCheck& g : result.gates) {
    if (!g.passed) failed.push_back(absl::StrCat(g.name, ": ", g.detail));
  }
  if (!failed.empty() && !c.options.force) {
    result.refused = true;
    result.refusal = absl::StrCat("refused: ", absl::StrJoin(failed, "; "));
    return std::nullopt;
  }
  if (c.options.dry_run) return std::nullopt;
  nlohmann::json gates = nlohmann::json::array();
  for (const GateCheck& g : result.gates) {
    gates.push_back(
        {{"gate", g.name}, {"passed", g.passed}, {"detail", g.detail}});
  }
  return PhaseDecision{.to = to,
                       .changed_by = c.options.changed_by,
                       .reason = c.options.reason.empty() ? "(no reason given)"
                                                          : c.options.reason,
                       .forced = c.options.force && !failed.empty(),
                       .gates_json = gates.dump()};
}

}  // namespace

absl::StatusOr<PhaseMoveResult> PhaseStore::Move(
    const PhaseMoveOptions& options) {
  if (options.force && options.reason.empty()) {
    return absl::InvalidArgumentError("--force needs --reason TEXT");
  }
  TS_ASSIGN_OR_RETURN(auto store,
                      SqliteTradeStore::Open({.path = options.sqlite_path,
                                              .create_if_missing = false,
                                              .reader_connections = 1}));
  TS_ASSIGN_OR_RETURN(OutboxStatus outbox, store->GetOutboxStatus());
  TS_ASSIGN_OR_RETURN(PhaseState now_state, Current());
  const std::optional<GateCheck> catch_up =
      CatchUpBeforeRollback(impl_->pool.get(), now_state, options, *store);
  PhaseMoveResult result;
  Clock* clock = impl_->pool->clock();
  auto decide = [&](const PhaseState& before, const GateFacts& facts)
      -> absl::StatusOr<std::optional<PhaseDecision>> {
    return Decide({options, outbox, catch_up, clock->Now()}, before, facts,
                  result);
  };
  TS_ASSIGN_OR_RETURN(result.after,
                      impl_->phases->Move(store->store_id(), decide));
  if (!result.after) return result;
  internal::Failpoint("phase.after_commit");
  if (result.after->phase == Phase::kPostgresOnly) {
    // Postgres assigns ids from now on: past every id SQLite gave, even
    // when no running service makes the switch itself.
    TS_RETURN_IF_ERROR(PgMirror(impl_->pool.get()).AdvanceSequence().status());
  }
  // After the commit: Postgres is where the phase lives; the mirror lets a
  // service restarted during an outage know it. A failure here is reported,
  // not an error: the move is made.
  absl::Status mirrored = MirrorPhaseIntoSqlite(*store, *result.after);
  if (!mirrored.ok()) {
    result.mirror_warning =
        absl::StrCat("the phase moved, but mirroring it into ",
                     options.sqlite_path, " failed (", mirrored.message(),
                     "); running services mirror it themselves within a poll");
  }
  return result;
}

}  // namespace tradestore
