// A small flag parser for the tradestore subcommands: `--name value`,
// `--name=value` and boolean `--name`. Each command declares its flags; an
// unknown flag or a missing value is a usage error.
//
// Thread-safety: plain values.
#ifndef TRADESTORE_CLI_FLAGS_H_
#define TRADESTORE_CLI_FLAGS_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tradestore::cli {

struct FlagSpec {
  std::string name;  // without the dashes
  std::string value_name;  // "" for a boolean flag
  std::string help;
};

struct ParsedArgs {
  std::map<std::string, std::string> values;  // booleans hold "true"
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
};

// Returns kInvalidArgument naming the offending argument.
absl::StatusOr<ParsedArgs> ParseFlags(const std::vector<std::string>& args,
                                      const std::vector<FlagSpec>& specs);

// "  --pg DSN      Postgres ..." lines for a usage message.
std::string FlagHelp(const std::vector<FlagSpec>& specs);

// --pg, else $TRADESTORE_PG_DSN, else "" (libpq reads the PG* variables).
std::string PgDsnFrom(const ParsedArgs& args);
// --sqlite, else $TRADESTORE_SQLITE; kInvalidArgument when neither is set.
absl::StatusOr<std::string> SqlitePathFrom(const ParsedArgs& args);

// Applies --deadline SECONDS (the Postgres retry deadline) to *deadline.
// Returns kInvalidArgument naming the value when it is not a positive count.
absl::Status DeadlineFrom(const ParsedArgs& args,
                          std::chrono::milliseconds* deadline);

// Applies --NAME DURATION ("30s", "5m", "500ms") to *out when given.
// Returns kInvalidArgument naming the flag and the value otherwise.
absl::Status DurationFrom(const ParsedArgs& args, const std::string& name,
                          std::chrono::milliseconds* out);

// The common --pg flag.
FlagSpec PgFlag();
FlagSpec SqliteFlag();
FlagSpec HelpFlag();

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_FLAGS_H_
