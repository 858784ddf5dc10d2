// Test seams of the Postgres pool (PgOptions::hooks): called at the points
// where real failures hurt most. Not installed.
#ifndef TRADESTORE_POSTGRES_PG_TEST_HOOKS_H_
#define TRADESTORE_POSTGRES_PG_TEST_HOOKS_H_

#include <functional>

namespace tradestore {

struct PgTestHooks {
  // Called after the transaction body, just before COMMIT is sent, with the
  // server process id of the connection (a test may terminate it).
  std::function<void(int backend_pid)> before_commit;
  // Called after a successful COMMIT; returning true makes the pool report
  // the outcome as unknown, as if the acknowledgement had been lost.
  std::function<bool()> lose_commit_ack;
};

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_PG_TEST_HOOKS_H_
