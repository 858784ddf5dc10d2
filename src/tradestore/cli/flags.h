// The flag grammar of every tradestore subcommand: `--name value`,
// `--name=value`, boolean `--name`, and `-h`. Each command declares its
// flags with a kind, so values are checked the same way everywhere:
// counts within the flag's bounds, durations as 30, 30s, 500ms, 5m, 2h or
// 2d (a bare number is seconds). An unknown flag names the nearest known
// one.
//
// Thread-safety: plain values and pure functions.
#ifndef TRADESTORE_CLI_FLAGS_H_
#define TRADESTORE_CLI_FLAGS_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore::cli {

enum class FlagKind { kBool, kText, kCount, kDuration };

struct FlagSpec {
  std::string name;  // without the dashes
  FlagKind kind = FlagKind::kBool;
  std::string value_name;  // shown in the help: DSN, FILE, N ...
  std::string help;
  // kCount: the accepted range.
  int64_t min = 0, max = INT64_MAX;
  // kDuration: the accepted range.
  std::chrono::milliseconds min_duration{0};
  std::chrono::milliseconds max_duration = std::chrono::hours(24 * 365);
};

// Each kind's spec, for declaring flags in one line.
FlagSpec BoolFlag(std::string name, std::string help);
FlagSpec TextFlag(std::string name, std::string value_name, std::string help);
FlagSpec CountFlag(std::string name, std::string help, int64_t min,
                   int64_t max);
FlagSpec DurationFlag(std::string name, std::string help,
                      std::chrono::milliseconds min,
                      std::chrono::milliseconds max);

struct ParsedArgs {
  std::map<std::string, std::string> values;  // booleans hold "true"
  std::map<std::string, int64_t> counts;
  std::map<std::string, std::chrono::milliseconds> durations;
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return values.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
  std::optional<int64_t> Count(const std::string& name) const;
  std::optional<std::chrono::milliseconds> Duration(
      const std::string& name) const;
};

// Returns kInvalidArgument naming the offending argument (and the nearest
// known flag for an unknown one).
absl::StatusOr<ParsedArgs> ParseFlags(const std::vector<std::string>& args,
                                      const std::vector<FlagSpec>& specs);

// "30", "30s", "500ms", "5m", "2h", "2d", "1h30m": a bare number is seconds.
// kInvalidArgument naming the text otherwise.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(absl::string_view text);

// The closest of `known` to `word` when it is near enough to be a typo,
// else "".
std::string Nearest(absl::string_view word,
                    const std::vector<std::string>& known);

// "  --pg DSN      Postgres ..." lines for a usage message, wrapped at 80
// columns.
std::string FlagHelp(const std::vector<FlagSpec>& specs);

// `text` wrapped at `width` columns, each line indented by `indent`.
std::string Wrap(absl::string_view text, size_t indent, size_t width = 80);

// --pg, else $TRADESTORE_PG_DSN, else "" (libpq reads the PG* variables).
std::string PgDsnFrom(const ParsedArgs& args);
// --sqlite, else $TRADESTORE_SQLITE; kInvalidArgument when neither is set.
absl::StatusOr<std::string> SqlitePathFrom(const ParsedArgs& args);

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_FLAGS_H_
