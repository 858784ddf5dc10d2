#include "tradestore/ops/patroni.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/poll.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/ops/http_client.h"

namespace tradestore::ops {
namespace {

StackNode Member(const nlohmann::json& m) {
  StackNode n;
  n.name = m.value("name", "");
  n.role = m.value("role", "");
  n.state = m.value("state", "");
  n.pg_port = m.value("port", 0);
  n.timeline = m.value("timeline", 0);
  // A replica's lag in bytes; "unknown" when Patroni cannot tell.
  if (const auto lag = m.find("lag"); lag != m.end() && lag->is_number()) {
    n.lag_bytes = lag->get<int64_t>();
  } else if (n.role == "leader") {
    n.lag_bytes = 0;
  }
  return n;
}

}  // namespace

absl::StatusOr<std::vector<StackNode>> PatroniMembers(
    const std::vector<int>& api_ports) {
  absl::Status last = absl::UnavailableError("no Patroni node is configured");
  for (int port : api_ports) {
    auto r = Http({.port = port, .path = "/cluster"});
    if (!r.ok()) {
      last = r.status();
      continue;
    }
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (r->status != 200 || j.is_discarded() || !j.contains("members")) {
      last = absl::UnavailableError(
          absl::StrCat("Patroni on port ", port, " answered ", r->status));
      continue;
    }
    std::vector<StackNode> out;
    for (const auto& m : j["members"]) out.push_back(Member(m));
    return out;
  }
  return last;
}

std::string LeaderOf(const std::vector<StackNode>& members) {
  for (const StackNode& n : members) {
    if (n.role == "leader") return n.name;
  }
  return "";
}

bool ClusterReady(const std::vector<StackNode>& members, size_t nodes) {
  if (members.size() != nodes) return false;
  bool leader = false, sync = false;
  for (const StackNode& n : members) {
    const bool up = n.state == "running" || n.state == "streaming";
    if (!up) return false;
    leader |= n.role == "leader";
    sync |= n.role == "sync_standby";
  }
  return leader && sync;
}

absl::Status PatroniSwitchover(int leader_api_port, const std::string& leader,
                               const std::string& candidate,
                               const std::string& password) {
  nlohmann::json body = {{"leader", leader}};
  if (!candidate.empty()) body["candidate"] = candidate;
  auto r = Http({.method = "POST",
                 .port = leader_api_port,
                 .path = "/switchover",
                 .body = body.dump(),
                 .user = "patroni",
                 .password = password,
                 .timeout = std::chrono::seconds(30)});
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("switchover refused (", r->status, "): ", r->body));
  }
  return absl::OkStatus();
}

absl::Status PatroniReinitialize(int api_port, const std::string& password) {
  return internal::PollUntilOk(
      std::chrono::milliseconds(500), std::chrono::seconds(30), [&] {
        auto r = Http({.method = "POST",
                       .port = api_port,
                       .path = "/reinitialize",
                       .body = nlohmann::json{{"force", true}}.dump(),
                       .user = "patroni",
                       .password = password});
        if (r.ok() && r->status == 200) return absl::OkStatus();
        return r.ok()
                   ? absl::FailedPreconditionError(absl::StrCat(
                         "reinitialize refused (", r->status, "): ", r->body))
                   : r.status();
      });
}

absl::Status PatroniSetPause(const std::vector<int>& api_ports, bool pause,
                             const std::string& password) {
  if (api_ports.empty()) {
    return absl::InvalidArgumentError("no Patroni node is configured");
  }
  absl::Status patched = absl::UnavailableError("no Patroni node answered");
  for (int port : api_ports) {
    auto r = Http({.method = "PATCH",
                   .port = port,
                   .path = "/config",
                   .body = nlohmann::json{{"pause", pause}}.dump(),
                   .user = "patroni",
                   .password = password});
    if (r.ok() && r->status == 200) {
      patched = absl::OkStatus();
      break;
    }
    patched = r.ok() ? absl::FailedPreconditionError(absl::StrCat(
                           "PATCH /config answered ", r->status, ": ", r->body))
                     : r.status();
  }
  if (!patched.ok()) return patched;
  // Each node takes it from the DCS on its next loop.
  for (int port : api_ports) {
    TS_RETURN_IF_ERROR(internal::PollUntilOk(
        std::chrono::milliseconds(100), std::chrono::seconds(30), [&] {
          auto r = Http({.port = port, .path = "/patroni"});
          const auto j = r.ok() ? nlohmann::json::parse(r->body, nullptr, false)
                                : nlohmann::json();
          if (j.is_object() && j.value("pause", false) == pause) {
            return absl::OkStatus();
          }
          return absl::DeadlineExceededError(absl::StrCat(
              "Patroni on port ", port, " did not take pause=", pause));
        }));
  }
  return absl::OkStatus();
}

}  // namespace tradestore::ops
