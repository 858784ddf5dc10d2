// The demo's HA part (`tradestore demo --ha`): a Patroni stack of its own,
// and the leader killed while trades flow through the outbox.
#ifndef TRADESTORE_CLI_DEMO_FAILOVER_H_
#define TRADESTORE_CLI_DEMO_FAILOVER_H_

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"

namespace tradestore::cli {

// A 3-node HA stack in `dir` (created), stopped and removed with the object.
class DemoHaStack {
 public:
  static absl::StatusOr<std::unique_ptr<DemoHaStack>> Start(
      const std::string& dir, std::ostream& out);
  ~DemoHaStack();
  DemoHaStack(const DemoHaStack&) = delete;
  DemoHaStack& operator=(const DemoHaStack&) = delete;

  const std::string& dir() const { return dir_; }
  // Through PgBouncer, in front of HAProxy's primary port.
  const std::string& dsn() const { return dsn_; }

 private:
  DemoHaStack(std::string dir, std::string dsn)
      : dir_(std::move(dir)), dsn_(std::move(dsn)) {}
  std::string dir_, dsn_;
};

// Trades flow through the store at `path` in dual_write while the leader's
// postmaster is SIGKILLed; then every acknowledged write must be on the
// new leader and verify clean. Prints what happened; an error when a
// write was lost or the stores differ.
absl::Status KillLeaderUnderLoad(const DemoHaStack& stack,
                                 const std::string& path, std::ostream& out);

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_DEMO_FAILOVER_H_
