#include "tradestore/migration/replication_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/internal/prom_text.h"

namespace tradestore {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

}  // namespace

std::vector<std::string> ReplicationAttention(const ReplicationFacts& f,
                                              const ReplicationBounds& b) {
  std::vector<std::string> out;
  if (f.in_recovery) {
    out.push_back(
        "the server asked is a standby: ask the primary for the whole view");
    return out;
  }
  if (f.hidden) {
    out.push_back(
        "the standbys' state and lag are hidden from this role: grant it "
        "pg_monitor");
    return out;
  }
  if (f.wants_sync && f.sync() == 0) {
    out.push_back(
        "synchronous replication is on but no synchronous standby streams: "
        "commits wait");
  }
  for (const auto& s : f.standbys) {
    if (s.state != "streaming") {
      out.push_back(
          absl::StrCat("standby ", s.name, " is ", s.state, ", not streaming"));
    }
    if (s.lag_bytes && *s.lag_bytes > b.max_lag_bytes) {
      out.push_back(absl::StrCat("standby ", s.name, " replays ", *s.lag_bytes,
                                 " bytes behind (bound ", b.max_lag_bytes,
                                 ")"));
    }
    if (s.lag_seconds && *s.lag_seconds > b.max_lag.count()) {
      out.push_back(
          absl::StrFormat("standby %s replays %.1f s behind (bound %d s)",
                          s.name, *s.lag_seconds, b.max_lag.count()));
    }
  }
  return out;
}

nlohmann::json ReplicationJson(const ReplicationFacts& f) {
  nlohmann::json standbys = nlohmann::json::array();
  for (const auto& s : f.standbys) {
    standbys.push_back({{"name", s.name},
                        {"state", s.state},
                        {"sync_state", s.sync_state},
                        {"lag_bytes", OrNull(s.lag_bytes)},
                        {"lag_seconds", OrNull(s.lag_seconds)}});
  }
  return {{"in_recovery", f.in_recovery},
          {"synchronous", f.wants_sync},
          {"streaming", f.streaming()},
          {"sync_standbys", f.sync()},
          {"hidden", f.hidden},
          {"standbys", standbys},
          {"own_lag_bytes", OrNull(f.own_lag_bytes)},
          {"own_replay_age_seconds", OrNull(f.own_replay_age_seconds)}};
}

std::string ReplicationPrometheus(const ReplicationFacts& f) {
  PromText t;
  t.Gauge("tradestore_pg_in_recovery", "1 when the server asked is a standby.",
          f.in_recovery ? 1 : 0);
  t.Gauge("tradestore_replication_streaming", "Standbys streaming.",
          f.streaming());
  t.Gauge("tradestore_replication_sync_standbys",
          "Synchronous standbys streaming.", f.sync());
  t.Gauge("tradestore_replication_sync_wanted",
          "1 when commits wait for a synchronous standby.",
          f.wants_sync ? 1 : 0);
  // The standbys' names come from the servers: PromLabels escapes them.
  t.Describe("tradestore_replication_lag_bytes", "gauge",
             "The primary's WAL a standby has not replayed.");
  for (const auto& s : f.standbys) {
    if (!s.lag_bytes) continue;
    t.Gauge("tradestore_replication_lag_bytes", "", *s.lag_bytes,
            PromLabels({{"standby", s.name}, {"sync_state", s.sync_state}}));
  }
  t.Describe("tradestore_replication_lag_seconds", "gauge",
             "A standby's replay lag (0 when idle and caught up).");
  for (const auto& s : f.standbys) {
    if (s.state.empty()) continue;
    t.Gauge("tradestore_replication_lag_seconds", "", s.lag_seconds.value_or(0),
            PromLabels({{"standby", s.name}, {"sync_state", s.sync_state}}));
  }
  return t.Take();
}

void PrintReplication(const ReplicationFacts& f, std::ostream& out) {
  if (f.in_recovery) {
    out << "  replication this server is a standby";
    if (f.own_lag_bytes) out << ", " << *f.own_lag_bytes << " bytes to replay";
    out << "\n";
    return;
  }
  if (f.standbys.empty()) {
    out << "  replication no standbys\n";
    return;
  }
  out << "  replication " << f.streaming() << " streaming, " << f.sync()
      << " synchronous\n";
  for (const auto& s : f.standbys) {
    out << "    " << s.name << "  " << (s.state.empty() ? "?" : s.state) << "  "
        << s.sync_state;
    if (s.lag_bytes) out << "  " << *s.lag_bytes << " bytes";
    if (s.lag_seconds) out << absl::StrFormat("  %.3f s", *s.lag_seconds);
    out << "\n";
  }
}

}  // namespace tradestore
