#include "tradestore/migration/replication_status.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradestore {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json();
}

// Prometheus label values: the names come from the servers.
std::string Label(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
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
  std::string out = absl::StrFormat(
      "# HELP tradestore_pg_in_recovery 1 when the server asked is a "
      "standby.\n"
      "# TYPE tradestore_pg_in_recovery gauge\n"
      "tradestore_pg_in_recovery %d\n"
      "# HELP tradestore_replication_streaming Standbys streaming.\n"
      "# TYPE tradestore_replication_streaming gauge\n"
      "tradestore_replication_streaming %d\n"
      "# HELP tradestore_replication_sync_standbys Synchronous standbys "
      "streaming.\n"
      "# TYPE tradestore_replication_sync_standbys gauge\n"
      "tradestore_replication_sync_standbys %d\n"
      "# HELP tradestore_replication_sync_wanted 1 when commits wait for a "
      "synchronous standby.\n"
      "# TYPE tradestore_replication_sync_wanted gauge\n"
      "tradestore_replication_sync_wanted %d\n",
      f.in_recovery ? 1 : 0, f.streaming(), f.sync(), f.wants_sync ? 1 : 0);
  absl::StrAppend(&out,
                  "# HELP tradestore_replication_lag_bytes The primary's WAL "
                  "a standby has not replayed.\n"
                  "# TYPE tradestore_replication_lag_bytes gauge\n");
  for (const auto& s : f.standbys) {
    if (!s.lag_bytes) continue;
    absl::StrAppend(&out, "tradestore_replication_lag_bytes{standby=\"",
                    Label(s.name), "\",sync_state=\"", Label(s.sync_state),
                    "\"} ", *s.lag_bytes, "\n");
  }
  absl::StrAppend(&out,
                  "# HELP tradestore_replication_lag_seconds A standby's "
                  "replay lag (0 when idle and caught up).\n"
                  "# TYPE tradestore_replication_lag_seconds gauge\n");
  for (const auto& s : f.standbys) {
    if (s.state.empty()) continue;
    absl::StrAppend(&out, "tradestore_replication_lag_seconds{standby=\"",
                    Label(s.name), "\",sync_state=\"", Label(s.sync_state),
                    "\"} ", absl::StrFormat("%.3f", s.lag_seconds.value_or(0)),
                    "\n");
  }
  return out;
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
