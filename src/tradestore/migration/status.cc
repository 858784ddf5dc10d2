#include "tradestore/migration/status.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/verification_log.h"

namespace tradestore {
namespace {

double AgeSeconds(Timestamp now, Timestamp then) {
  return (now.unix_micros() - then.unix_micros()) / 1e6;
}

std::string Age(double seconds) {
  if (seconds < 120) return absl::StrFormat("%.0fs", seconds);
  if (seconds < 7200) return absl::StrFormat("%.0fm", seconds / 60);
  if (seconds < 172800) return absl::StrFormat("%.1fh", seconds / 3600);
  return absl::StrFormat("%.1fd", seconds / 86400);
}

// What needs the operator about the store and its migration, each with
// why.
void StoreAttention(const StatusReport& r, const StatusOptions& o,
                    std::vector<std::string>& out) {
  const StatusFacts& f = r.postgres;
  if (f.schema_version < r.schema_built) {
    out.push_back(absl::StrCat("schema at version ", f.schema_version,
                               ", this build has ", r.schema_built,
                               ": tradestore schema migrate"));
  }
  if (r.sqlite && r.sqlite->schema_version < kSqliteSchemaVersion) {
    out.push_back(
        absl::StrCat("the SQLite store is at tradestore schema "
                     "version ",
                     r.sqlite->schema_version, " of ", kSqliteSchemaVersion,
                     ": tradestore prepare"));
  }
  if (r.sqlite && f.phase && r.sqlite->mirrored_phase &&
      r.sqlite->mirrored_phase->version != f.phase->version) {
    out.push_back(absl::StrCat(
        "the SQLite mirror says ", PhaseName(r.sqlite->mirrored_phase->phase),
        " (version ", r.sqlite->mirrored_phase->version, "), Postgres ",
        PhaseName(f.phase->phase), " (version ", f.phase->version, ")"));
  }
  if (f.fence_by) {
    out.push_back(absl::StrCat("the backfill of store ", *f.fence_by,
                               " holds trades fenced: run it again"));
  }
  if (f.backfill && !f.backfill->completed) {
    out.push_back(absl::StrCat("the backfill stopped at id ",
                               f.backfill->last_id, " of ",
                               f.backfill->high_water_id, ": run it again"));
  }
  if (r.sqlite && r.sqlite->outbox && r.sqlite->outbox->oldest) {
    const double age = AgeSeconds(f.now, *r.sqlite->outbox->oldest);
    if (age > o.max_outbox_age.count()) {
      const std::optional<RelayProgress>& relay = r.sqlite->relay;
      out.push_back(absl::StrCat(
          "the outbox's oldest entry waits for ", Age(age), ": ",
          relay ? absl::StrCat("the relay's last ack was ",
                               Age(AgeSeconds(f.now, relay->last.at)), " ago")
                : "no relay has acked an entry",
          "; is it running?"));
    }
  }
}

// While SQLite is still written, the verifications the gates rely on.
void VerifyAttention(const StatusFacts& f, const StatusOptions& o,
                     std::vector<std::string>& out) {
  const bool sqlite_written =
      f.phase && (f.phase->phase == Phase::kDualWrite ||
                  f.phase->phase == Phase::kReadPostgres);
  if (!sqlite_written) return;
  if (!f.last_full) {
    out.push_back("no full verification recorded");
  } else if (!f.last_full->clean) {
    out.push_back(absl::StrCat("the latest full verification found ",
                               f.last_full->differences, " differences"));
  } else if (AgeSeconds(f.now, f.last_full->finished_at) >
             std::chrono::seconds(o.max_full_verify_age).count()) {
    out.push_back(absl::StrCat("the latest full verification is ",
                               Age(AgeSeconds(f.now, f.last_full->finished_at)),
                               " old"));
  }
  // A later full run (reported above) covers the incremental one.
  const bool superseded = f.last_full && f.last_incremental &&
                          f.last_full->finished_at.unix_micros() >
                              f.last_incremental->finished_at.unix_micros();
  if (f.last_incremental && !f.last_incremental->clean && !superseded) {
    out.push_back(absl::StrCat("the latest incremental verification found ",
                               f.last_incremental->differences,
                               " differences"));
  }
}

// The quarantine, the backups and the restore drills.
void OperationsAttention(const StatusFacts& f, const StatusOptions& o,
                         std::vector<std::string>& out) {
  const Timestamp now = f.now;
  if (f.unresolved_quarantine > 0) {
    out.push_back(
        absl::StrCat(f.unresolved_quarantine, " quarantined rows unresolved"));
  }
  if (!f.last_backup) {
    out.push_back("no backup recorded (tradestore backup)");
  } else if (AgeSeconds(now, f.last_backup->finished_at) >
             std::chrono::seconds(o.max_backup_age).count()) {
    out.push_back(absl::StrCat("the last good backup is ",
                               Age(AgeSeconds(now, f.last_backup->finished_at)),
                               " old"));
  }
  if (!f.last_drill) {
    out.push_back(
        "no restore drill recorded (tradestore restore --drill "
        "--record)");
  } else if (AgeSeconds(now, f.last_drill->finished_at) >
             std::chrono::seconds(o.max_drill_age).count()) {
    out.push_back(absl::StrCat("the last restore drill is ",
                               Age(AgeSeconds(now, f.last_drill->finished_at)),
                               " old"));
  }
}

// What needs the operator, each with why.
std::vector<std::string> Attention(const StatusReport& r,
                                   const StatusOptions& o) {
  std::vector<std::string> out;
  StoreAttention(r, o, out);
  VerifyAttention(r.postgres, o, out);
  OperationsAttention(r.postgres, o, out);
  return out;
}

// The SQLite file's part of the status JSON.
void AddSqliteJson(const SqliteStoreFacts& s, Timestamp now,
                   nlohmann::json& j) {
  j["sqlite_schema_version"] = s.schema_version;
  if (s.outbox) {
    const OutboxStatus& o = *s.outbox;
    j["outbox_entries"] = o.entries;
    j["outbox_oldest_age_s"] = o.oldest ? AgeSeconds(now, *o.oldest) : 0.0;
  }
  if (s.relay) {
    const RelayProgress& p = *s.relay;
    j["relay"] = {{"last_ack_at", p.last.at.ToIso8601()},
                  {"last_ack_age_s", AgeSeconds(now, p.last.at)},
                  {"rate_per_s", p.last.rate_per_s},
                  {"lag_ms", p.last.lag_ms},
                  {"acked_total", p.acked_total}};
  }
}

}  // namespace

absl::StatusOr<StatusReport> RunStatus(const StatusOptions& options) {
  StatusReport report;
  std::string store_id;
  if (!options.sqlite_path.empty()) {
    TS_ASSIGN_OR_RETURN(report.sqlite,
                        ReadSqliteStoreFacts(options.sqlite_path));
    store_id = report.sqlite->store_id;
  }
  PgOptions pg = options.pg;
  TS_ASSIGN_OR_RETURN(auto pool, PgPool::Create(pg));
  TS_ASSIGN_OR_RETURN(report.postgres, ReadStatusFacts(*pool, store_id));
  for (const Migration& m : BuiltinMigrations()) {
    report.schema_built = std::max(report.schema_built, m.version);
  }
  if (options.history_runs > 0) {
    TS_ASSIGN_OR_RETURN(
        report.history,
        VerificationLog(pool.get()).History(store_id, options.history_runs));
  }
  report.attention = Attention(report, options);
  for (std::string& a :
       ReplicationAttention(report.postgres.replication, options.replication)) {
    report.attention.push_back(std::move(a));
  }
  return report;
}

std::string StatusReport::ToJson() const {
  const StatusFacts& f = postgres;
  // When a recorded run finished; null when there is none.
  auto finished = [](const auto& run) {
    return run ? nlohmann::json(run->finished_at.ToIso8601())
               : nlohmann::json();
  };
  nlohmann::json j = {
      {"healthy", healthy()},
      {"attention", attention},
      {"schema_version", f.schema_version},
      {"schema_built", schema_built},
      {"phase",
       f.phase ? nlohmann::json(PhaseName(f.phase->phase)) : nlohmann::json()},
      {"phase_version", f.phase ? f.phase->version : 0},
      {"fence_by", f.fence_by ? nlohmann::json(*f.fence_by) : nlohmann::json()},
      {"unresolved_quarantine", f.unresolved_quarantine},
      {"backfill_completed", f.backfill ? f.backfill->completed : false},
      {"last_full_verify", finished(f.last_full)},
      {"last_backup", finished(f.last_backup)},
      {"last_drill", finished(f.last_drill)},
      {"last_drill_rto_s", f.last_drill && f.last_drill->rto_seconds
                               ? nlohmann::json(*f.last_drill->rto_seconds)
                               : nlohmann::json()},
  };
  if (f.backfill) {
    j["backfill"] = {{"last_id", f.backfill->last_id},
                     {"high_water_id", f.backfill->high_water_id},
                     {"completed", f.backfill->completed},
                     {"updated_at", f.backfill->updated_at.ToIso8601()}};
  }
  for (const auto& [name, run] :
       {std::pair{"last_full", &f.last_full},
        std::pair{"last_incremental", &f.last_incremental}}) {
    if (!*run) continue;
    j[std::string(name) + "_run"] = {
        {"finished_at", (*run)->finished_at.ToIso8601()},
        {"clean", (*run)->clean},
        {"differences", (*run)->differences}};
  }
  if (f.archive) {
    j["archive"] = {{"path", f.archive->path},
                    {"verified", f.archive->verified},
                    {"created_at", f.archive->created_at.ToIso8601()}};
  }
  if (sqlite) AddSqliteJson(*sqlite, f.now, j);
  j["replication"] = ReplicationJson(f.replication);
  return j.dump(2) + "\n";
}

std::string StatusReport::ToPrometheus() const {
  const StatusFacts& f = postgres;
  auto age = [&](const auto& thing) -> double {
    return thing ? AgeSeconds(f.now, thing->finished_at) : -1;
  };
  PromText t;
  t.Gauge("tradestore_status_healthy", "1 when nothing needs attention.",
          healthy() ? 1 : 0);
  t.Gauge("tradestore_status_attention", "Things that need attention.",
          static_cast<uint64_t>(attention.size()));
  t.Gauge("tradestore_phase_version", "The migration phase's version.",
          f.phase ? f.phase->version : int64_t{0});
  t.Gauge("tradestore_last_backup_age_seconds",
          "Since the last good backup (-1: none).",
          std::round(age(f.last_backup)));
  t.Gauge("tradestore_last_drill_age_seconds",
          "Since the last good restore drill (-1: none).",
          std::round(age(f.last_drill)));
  t.Gauge("tradestore_quarantine_unresolved", "Quarantined rows unresolved.",
          f.unresolved_quarantine);
  if (sqlite && sqlite->outbox) {
    const OutboxStatus& o = *sqlite->outbox;
    t.Gauge("tradestore_status_outbox_entries",
            "Dual-write outbox entries waiting.", o.entries);
    t.Gauge("tradestore_status_outbox_oldest_age_seconds",
            "How long the oldest outbox entry has waited (0: none).",
            o.oldest ? std::round(AgeSeconds(f.now, *o.oldest)) : 0.0);
  }
  if (sqlite && sqlite->relay) {
    const RelayProgress& p = *sqlite->relay;
    t.Gauge("tradestore_status_relay_last_ack_age_seconds",
            "Since the outbox relay last acked entries.",
            std::round(AgeSeconds(f.now, p.last.at)));
    t.Gauge("tradestore_status_relay_rate",
            "Entries per second the relay applied in the minute before its "
            "last ack.",
            p.last.rate_per_s);
    t.Gauge("tradestore_status_relay_lag_seconds",
            "The longest enqueue-to-applied delay of the relay's last batch.",
            p.last.lag_ms / 1e3);
    t.Counter("tradestore_status_relay_acked_total",
              "Outbox entries the relays of this store have applied.",
              p.acked_total);
  }
  return t.Take() + ReplicationPrometheus(f.replication);
}

namespace {

// The dual-write outbox and the relay that empties it.
void OutboxFacts(Timestamp now, const std::optional<SqliteStoreFacts>& sqlite,
                 std::vector<std::pair<std::string, std::string>>& out) {
  if (sqlite && sqlite->outbox) {
    const OutboxStatus& o = *sqlite->outbox;
    out.emplace_back("outbox",
                     o.oldest
                         ? absl::StrCat(o.entries, " entries, the oldest ",
                                        Age(AgeSeconds(now, *o.oldest)), " old")
                         : absl::StrCat(o.entries, " entries"));
  }
  if (sqlite && sqlite->relay) {
    const RelayProgress& p = *sqlite->relay;
    out.emplace_back(
        "relay",
        absl::StrFormat("last ack %s ago, %.1f entries/s in the minute "
                        "before, lag %d ms; %d applied in all",
                        Age(AgeSeconds(now, p.last.at)), p.last.rate_per_s,
                        p.last.lag_ms, p.acked_total));
  } else if (sqlite && sqlite->outbox) {
    out.emplace_back("relay", "no ack recorded");
  }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> StatusReport::Facts() const {
  const StatusFacts& f = postgres;
  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("schema", absl::StrCat("version ", f.schema_version, " of ",
                                          schema_built));
  if (sqlite) {
    out.emplace_back("sqlite schema",
                     absl::StrCat("version ", sqlite->schema_version, " of ",
                                  kSqliteSchemaVersion));
  }
  out.emplace_back(
      "phase", f.phase ? absl::StrCat(PhaseName(f.phase->phase), " (version ",
                                      f.phase->version, ", since ",
                                      f.phase->changed_at.ToIso8601(), ")")
                       : "-");
  if (f.backfill) {
    out.emplace_back(
        "backfill",
        f.backfill->completed
            ? absl::StrCat("done, through id ", f.backfill->high_water_id)
            : absl::StrCat("stopped at id ", f.backfill->last_id, " of ",
                           f.backfill->high_water_id));
  }
  if (f.fence_by) out.emplace_back("fence", "held by store " + *f.fence_by);
  OutboxFacts(f.now, sqlite, out);
  out.emplace_back("quarantine",
                   absl::StrCat(f.unresolved_quarantine, " unresolved"));
  auto run = [&](const char* kind, const auto& r) {
    return absl::StrCat(
        kind, " ", Age(AgeSeconds(f.now, r->finished_at)), " ago, ",
        r->clean ? "clean" : absl::StrCat(r->differences, " DIFFERENCES"));
  };
  if (f.last_full) out.emplace_back("verify", run("full", f.last_full));
  if (f.last_incremental) {
    out.emplace_back(f.last_full ? "" : "verify",
                     run("incremental", f.last_incremental));
  }
  if (f.archive) {
    out.emplace_back(
        "archive",
        absl::StrCat(Age(AgeSeconds(f.now, f.archive->created_at)), " ago, ",
                     f.archive->verified ? "verified" : "NOT VERIFIED", " (",
                     f.archive->path, ")"));
  }
  auto last = [&](const char* what, const auto& thing) {
    out.emplace_back(
        what, thing ? absl::StrCat(Age(AgeSeconds(f.now, thing->finished_at)),
                                   " ago (", thing->name, ")")
                    : "none recorded");
  };
  last("backup", f.last_backup);
  last("drill", f.last_drill);
  if (f.last_drill && f.last_drill->rto_seconds) {
    out.emplace_back(
        "", absl::StrFormat("measured RTO %.1f s", *f.last_drill->rto_seconds));
  }
  return out;
}

void StatusReport::Print(std::ostream& out) const {
  out << "tradestore status: " << (healthy() ? "healthy" : "NEEDS ATTENTION")
      << "\n";
  for (const auto& [what, value] : Facts()) {
    out << absl::StrFormat("  %-10s %s\n", what, value);
  }
  PrintReplication(postgres.replication, out);
  for (const std::string& a : attention) out << "  ! " << a << "\n";
}

}  // namespace tradestore
