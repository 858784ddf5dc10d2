// The migration's steps as the tests that need a store in a given state take
// them: a backfill with the defaults, and the phase moved up from
// sqlite_only, forced, one step at a time (the gates have their own tests).
#ifndef TRADESTORE_TESTS_TESTING_PHASES_H_
#define TRADESTORE_TESTS_TESTING_PHASES_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore::testing {

// Backfills the store at `sqlite_path` into the database at `dsn`; what it
// logged goes to `log` when given.
absl::StatusOr<BackfillReport> Backfill(const std::string& sqlite_path,
                                        const std::string& dsn,
                                        std::string* log = nullptr);

absl::Status ForcePhaseUpTo(const PgOptions& pg, const std::string& sqlite_path,
                            Phase target, const std::string& reason);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_PHASES_H_
