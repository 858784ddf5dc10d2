// Helpers for libpq connection strings (key=value conninfo or URI) that keep
// passwords out of logs and messages.
//
// Thread-safety: pure functions.
#ifndef TRADESTORE_POSTGRES_DSN_H_
#define TRADESTORE_POSTGRES_DSN_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore {

// The DSN for printing, rebuilt from what libpq's own parser reads of it,
// with any password as "***" (and masked wherever else it stands):
//   "postgresql://app:s3cret@db/x" -> "postgresql://app:***@db/x"
//   "dbname=x password='a b' host=db" -> "host=db dbname=x password=***"
// A DSN libpq cannot parse shows as nothing of itself; an empty one (libpq
// falls back to PG* variables) as "(PG* environment)".
std::string MaskDsn(absl::string_view dsn);

// The password the DSN carries, "" when none (libpq's own parser).
// Returns kInvalidArgument when libpq cannot parse the DSN; the message holds
// no password.
absl::StatusOr<std::string> DsnPassword(const std::string& dsn);

// The DSN as libpq's environment variables (PGHOST, PGPORT, PGUSER,
// PGPASSWORD, PGPASSFILE, PGSSLMODE, ...), for running pg_dump and
// pg_restore with no connection string, and so no password, on their
// command line. kInvalidArgument when libpq cannot parse it (the message
// holds none of it).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DsnEnvironment(
    const std::string& dsn);

// The DSN with its database replaced by `dbname`, as a conninfo string
// (every other setting kept). kInvalidArgument as DsnEnvironment.
absl::StatusOr<std::string> DsnWithDatabase(const std::string& dsn,
                                            const std::string& dbname);

// `message` with every occurrence of `secret` replaced by "***".
std::string ScrubSecret(std::string message, absl::string_view secret);

// Adds `key=value` to the DSN unless the DSN sets that key already.
std::string WithDsnDefault(const std::string& dsn, absl::string_view key,
                           absl::string_view value);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_DSN_H_
