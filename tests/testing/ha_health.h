// When an HA stack is fit for the next drill: every part running, and the
// leader, reached through HAProxy's primary port, takes writes and streams
// to every other node with one of them synchronous. Patroni's own view
// ("running") also covers a node still in crash recovery, which cannot
// become the synchronous standby if the leader is lost next.
#ifndef TRADESTORE_TESTS_TESTING_HA_HEALTH_H_
#define TRADESTORE_TESTS_TESTING_HA_HEALTH_H_

#include "tradestore/ops/stack.h"

namespace tradestore::testing {

bool HaHealthy(const ops::StackStatus& s);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_HA_HEALTH_H_
