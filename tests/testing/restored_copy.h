// Point-in-time recovery in tests: WAL shipped to the archive on demand,
// and a cluster restored by pgBackRest, started on a port of its own with
// its socket in its own directory, once its recovery has ended.
#ifndef TRADESTORE_TESTS_TESTING_RESTORED_COPY_H_
#define TRADESTORE_TESTS_TESTING_RESTORED_COPY_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "tradestore/ops/pg_cluster.h"

namespace tradestore::testing {

// Runs SQL on the primary and returns psql's unaligned output.
using SqlRunner = std::function<std::string(const std::string& sql)>;

// Switches the primary's WAL segment and waits until the archiver has it:
// what a recovery can reach. False (with a test failure) when `deadline`
// passes first: it ends a hung test, nothing is timed.
bool ArchiveNow(const SqlRunner& sql, std::chrono::seconds deadline);

// A recovering server takes read-only connections once it is consistent,
// while it still replays WAL: a query then may not see what the recovery
// will bring back. It promotes once recovery ends (at the target, or at the
// end of the archive); this waits for that (2 minutes, a hung test).
bool WaitForPromotion(ops::PgCluster& cluster);

// Starts the copy restored into `dir`/data; nullptr (with a test failure)
// when it does not start or never ends its recovery.
std::unique_ptr<ops::PgCluster> StartRestoredCopy(const std::string& dir);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_RESTORED_COPY_H_
