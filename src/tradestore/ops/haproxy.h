// HAProxy in the HA stack: started from the rendered haproxy.cfg, and its
// view of each server read from its stats socket. HAProxy 2.6 counts every
// server up until its checks say otherwise, so the stack waits on this view
// before it sends anything through.
//
// Thread-safety: functions; safe from any thread.
#ifndef TRADESTORE_OPS_HAPROXY_H_
#define TRADESTORE_OPS_HAPROXY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore::ops {

struct HaproxyServer {
  std::string proxy;   // "primary" or "replicas"
  std::string server;  // the node's name
  std::string status;  // "UP", "DOWN", "UP 1/2", "MAINT", ...
  bool up() const { return status == "UP"; }
};

// "show stat" on the stats socket: every server of every proxy.
absl::StatusOr<std::vector<HaproxyServer>> HaproxyServers(
    const std::string& socket_path);

// The names of the servers of `proxy` that are fully up.
std::vector<std::string> UpServers(const std::vector<HaproxyServer>& servers,
                                   const std::string& proxy);

// Checks `cfg` (haproxy -c) and starts it daemonised as `user`.
absl::Status StartHaproxy(const std::string& cfg, const std::string& user);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_HAPROXY_H_
