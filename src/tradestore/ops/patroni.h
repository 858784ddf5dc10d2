// Patroni's REST API, as the HA stack and its drills use it: the cluster
// as the DCS sees it, a switchover, maintenance mode.
//
// Thread-safety: functions; safe from any thread.
#ifndef TRADESTORE_OPS_PATRONI_H_
#define TRADESTORE_OPS_PATRONI_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/ops/stack.h"

namespace tradestore::ops {

// The members from GET /cluster of the first node in `api_ports` that
// answers: name, role, state, port, timeline, lag. kUnavailable when none
// answers.
absl::StatusOr<std::vector<StackNode>> PatroniMembers(
    const std::vector<int>& api_ports);

// The leader's name in `members`, "" when there is none.
std::string LeaderOf(const std::vector<StackNode>& members);

// Whether the cluster serves synchronous writes: a running leader, a
// streaming sync standby, and every member in `members` running or
// streaming.
bool ClusterReady(const std::vector<StackNode>& members, size_t nodes);

// POST /switchover to the leader's API: `candidate` (or any sync standby
// when empty) becomes the leader. `password` is the REST API's.
absl::Status PatroniSwitchover(int leader_api_port, const std::string& leader,
                               const std::string& candidate,
                               const std::string& password);

// POST /reinitialize to the node's API: its data directory is wiped and
// cloned again from the leader, for a node that cannot rejoin by itself (a
// replica promoted out of the cluster, on a timeline the leader never had).
// Patroni refuses while the node is busy (demoting, starting); that is
// retried for up to 30 s.
absl::Status PatroniReinitialize(int api_port, const std::string& password);

// Maintenance mode (PATCH /config {"pause": ...}): Patroni stops managing
// Postgres (no failover, no restart, no resuming of a paused replay) until
// it is turned off. Returns once every node in `api_ports` says so, or
// kDeadlineExceeded after 30 s.
absl::Status PatroniSetPause(const std::vector<int>& api_ports, bool pause,
                             const std::string& password);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_PATRONI_H_
