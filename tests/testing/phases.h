// Moves a store's phase up from sqlite_only, forced, one step at a time, as
// the tests that need a store in a given phase do (the gates have their own
// tests).
#ifndef TRADESTORE_TESTS_TESTING_PHASES_H_
#define TRADESTORE_TESTS_TESTING_PHASES_H_

#include <string>

#include "absl/status/status.h"
#include "tradestore/phase.h"
#include "tradestore/postgres/pg_options.h"

namespace tradestore::testing {

absl::Status ForcePhaseUpTo(const PgOptions& pg, const std::string& sqlite_path,
                            Phase target, const std::string& reason);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_PHASES_H_
