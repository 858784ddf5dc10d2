#include "tradestore/cli/flags.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace tradestore::cli {

std::optional<std::string> ParsedArgs::Get(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<ParsedArgs> ParseFlags(const std::vector<std::string>& args,
                                      const std::vector<FlagSpec>& specs) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg == "--") {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (spec->value_name.empty()) {
      if (value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      parsed.values[name] = "true";
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " needs a value (", spec->value_name, ")"));
      }
      value = args[++i];
    }
    parsed.values[name] = *value;
  }
  return parsed;
}

std::string FlagHelp(const std::vector<FlagSpec>& specs) {
  std::string out;
  for (const FlagSpec& s : specs) {
    std::string left = absl::StrCat("  --", s.name,
                                    s.value_name.empty() ? "" : " ",
                                    s.value_name);
    if (left.size() < 24) left.resize(24, ' ');
    absl::StrAppend(&out, left, " ", s.help, "\n");
  }
  return out;
}

std::string PgDsnFrom(const ParsedArgs& args) {
  if (auto pg = args.Get("pg")) return *pg;
  if (const char* env = std::getenv("TRADESTORE_PG_DSN")) return env;
  return "";
}

absl::StatusOr<std::string> SqlitePathFrom(const ParsedArgs& args) {
  if (auto path = args.Get("sqlite")) return *path;
  if (const char* env = std::getenv("TRADESTORE_SQLITE")) return std::string(env);
  return absl::InvalidArgumentError(
      "missing --sqlite PATH (or TRADESTORE_SQLITE)");
}

absl::Status DeadlineFrom(const ParsedArgs& args,
                          std::chrono::milliseconds* deadline) {
  auto value = args.Get("deadline");
  if (!value) return absl::OkStatus();
  int seconds = 0;
  if (!absl::SimpleAtoi(*value, &seconds) || seconds <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--deadline: \"", *value, "\" is not a positive number of seconds"));
  }
  *deadline = std::chrono::seconds(seconds);
  return absl::OkStatus();
}

absl::Status DurationFrom(const ParsedArgs& args, const std::string& name,
                          std::chrono::milliseconds* out) {
  auto value = args.Get(name);
  if (!value) return absl::OkStatus();
  absl::Duration d;
  if (!absl::ParseDuration(*value, &d) || d < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": \"", *value, "\" is not a duration like 30s, 5m or 500ms"));
  }
  *out = std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
  return absl::OkStatus();
}

FlagSpec PgFlag() {
  return {"pg", "DSN",
          "Postgres conninfo or URI (default: $TRADESTORE_PG_DSN, then the "
          "PG* environment)"};
}

FlagSpec SqliteFlag() {
  return {"sqlite", "PATH", "SQLite trade store (default: $TRADESTORE_SQLITE)"};
}

FlagSpec HelpFlag() { return {"help", "", "show this help"}; }

}  // namespace tradestore::cli
