#include "tradestore/cli/flags.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tradestore/internal/quote.h"

namespace tradestore::cli {
namespace {

std::string DurationText(std::chrono::milliseconds d) {
  return absl::FormatDuration(absl::Milliseconds(d.count()));
}

// Checks and stores a flag's value by its kind.
absl::Status Store(const FlagSpec& spec, const std::string& value,
                   ParsedArgs& parsed) {
  const std::string shown = internal::Quote(value);
  switch (spec.kind) {
    case FlagKind::kCount: {
      int64_t n = 0;
      if (!absl::SimpleAtoi(value, &n) || n < spec.min || n > spec.max) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", spec.name, ": ", shown, " is not a count from ",
                         spec.min, " to ", spec.max));
      }
      parsed.counts[spec.name] = n;
      break;
    }
    case FlagKind::kDuration: {
      auto d = ParseDuration(value);
      if (!d.ok() || *d < spec.min_duration || *d > spec.max_duration) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", spec.name, ": ", shown, " is not a duration from ",
            DurationText(spec.min_duration), " to ",
            DurationText(spec.max_duration), " (like 30, 30s, 5m, 2h, 2d)"));
      }
      parsed.durations[spec.name] = *d;
      break;
    }
    default:
      break;
  }
  parsed.values[spec.name] = value;
  return absl::OkStatus();
}

size_t Distance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

FlagSpec BoolFlag(std::string name, std::string help) {
  return {.name = std::move(name),
          .kind = FlagKind::kBool,
          .help = std::move(help)};
}

FlagSpec TextFlag(std::string name, std::string value_name, std::string help) {
  return {.name = std::move(name),
          .kind = FlagKind::kText,
          .value_name = std::move(value_name),
          .help = std::move(help)};
}

FlagSpec CountFlag(std::string name, std::string help, int64_t min,
                   int64_t max) {
  return {.name = std::move(name),
          .kind = FlagKind::kCount,
          .value_name = "N",
          .help = std::move(help),
          .min = min,
          .max = max};
}

FlagSpec DurationFlag(std::string name, std::string help,
                      std::chrono::milliseconds min,
                      std::chrono::milliseconds max) {
  return {.name = std::move(name),
          .kind = FlagKind::kDuration,
          .value_name = "DURATION",
          .help = std::move(help),
          .min_duration = min,
          .max_duration = max};
}

std::optional<std::string> ParsedArgs::Get(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::optional<int64_t> ParsedArgs::Count(const std::string& name) const {
  auto it = counts.find(name);
  if (it == counts.end()) return std::nullopt;
  return it->second;
}

std::optional<std::chrono::milliseconds> ParsedArgs::Duration(
    const std::string& name) const {
  auto it = durations.find(name);
  if (it == durations.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::chrono::milliseconds> ParseDuration(
    absl::string_view text) {
  const std::string t(absl::StripAsciiWhitespace(text));
  double number = 0;
  absl::Duration d;
  if (absl::SimpleAtod(t, &number) &&
      t.find_first_of("eEinfINF") == std::string::npos) {
    d = absl::Seconds(number);  // a bare number is seconds
  } else if (absl::EndsWith(t, "d") &&
             absl::SimpleAtod(t.substr(0, t.size() - 1), &number)) {
    d = absl::Hours(24 * number);
  } else if (!absl::ParseDuration(t, &d)) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::Quote(text), " is not a duration"));
  }
  if (d < absl::ZeroDuration() || d > absl::Hours(24 * 365 * 100)) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::Quote(text), " is not a duration"));
  }
  return std::chrono::milliseconds(absl::ToInt64Milliseconds(d));
}

std::string Nearest(absl::string_view word,
                    const std::vector<std::string>& known) {
  std::string best;
  size_t best_distance = 3;  // two edits at most
  for (const std::string& k : known) {
    const size_t d = Distance(word, k);
    if (d < best_distance ||
        (!word.empty() && absl::StartsWith(k, word) && best.empty())) {
      best = k;
      best_distance = std::min(d, best_distance);
    }
  }
  return best;
}

absl::StatusOr<ParsedArgs> ParseFlags(const std::vector<std::string>& args,
                                      const std::vector<FlagSpec>& specs) {
  ParsedArgs parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") {
      parsed.values["help"] = "true";
      continue;
    }
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
    std::vector<std::string> names;
    for (const FlagSpec& s : specs) {
      if (s.name == name) spec = &s;
      names.push_back(s.name);
    }
    if (spec == nullptr) {
      const std::string near = Nearest(name, names);
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", internal::Escape(name),
          near.empty() ? "" : absl::StrCat(" (did you mean --", near, "?)")));
    }
    if (spec->kind == FlagKind::kBool) {
      if (value) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      parsed.values[name] = "true";
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, " needs a value (", spec->value_name, ")"));
      }
      value = args[++i];
    }
    if (absl::Status s = Store(*spec, *value, parsed); !s.ok()) return s;
  }
  return parsed;
}

std::string Wrap(absl::string_view text, size_t indent, size_t width) {
  std::string out, line;
  const std::string pad(indent, ' ');
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (!line.empty() && pad.size() + line.size() + 1 + word.size() > width) {
      absl::StrAppend(&out, pad, line, "\n");
      line.clear();
    }
    absl::StrAppend(&line, line.empty() ? "" : " ", word);
  }
  if (!line.empty()) absl::StrAppend(&out, pad, line, "\n");
  return out;
}

std::string FlagHelp(const std::vector<FlagSpec>& specs) {
  constexpr size_t kColumn = 24;
  std::string out;
  for (const FlagSpec& s : specs) {
    std::string left = absl::StrCat(
        "  --", s.name, s.value_name.empty() ? "" : " ", s.value_name);
    std::string help = Wrap(s.help, kColumn + 1);
    if (left.size() < kColumn) {
      left.resize(kColumn, ' ');
      absl::StrAppend(&out, left, " ", help.substr(kColumn + 1));
    } else {
      absl::StrAppend(&out, left, "\n", help);
    }
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
  if (const char* env = std::getenv("TRADESTORE_SQLITE")) {
    return std::string(env);
  }
  return absl::InvalidArgumentError(
      "missing --sqlite PATH (or TRADESTORE_SQLITE)");
}

}  // namespace tradestore::cli
