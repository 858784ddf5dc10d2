// Helpers for libpq connection strings (key=value conninfo or URI) that keep
// passwords out of logs and messages.
//
// Thread-safety: pure functions.
#ifndef TRADESTORE_POSTGRES_DSN_H_
#define TRADESTORE_POSTGRES_DSN_H_

#include <string>

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

// `message` with every occurrence of `secret` replaced by "***".
std::string ScrubSecret(std::string message, absl::string_view secret);

// Adds `key=value` to the DSN unless the DSN sets that key already.
std::string WithDsnDefault(const std::string& dsn, absl::string_view key,
                           absl::string_view value);

}  // namespace tradestore

#endif  // TRADESTORE_POSTGRES_DSN_H_
