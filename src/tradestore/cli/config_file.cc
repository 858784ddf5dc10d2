#include "tradestore/cli/config_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/quote.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/dsn.h"

namespace tradestore::cli {
namespace {

absl::Status At(const ConfigFile& file, int line, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(file.path, ":", line, ": ", what));
}

// The environment variable that overrides the file for this flag.
const char* EnvironmentFor(const std::string& flag) {
  if (flag == "sqlite") return "TRADESTORE_SQLITE";
  if (flag == "pg") return "TRADESTORE_PG_DSN";
  return nullptr;
}

}  // namespace

absl::StatusOr<ConfigFile> ReadConfigFile(const std::string& path) {
  ConfigFile file{.path = path};
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config: cannot read ", internal::Quote(path)));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--config: ", internal::Quote(path),
                     " may be changed by others than its owner (chmod go-w)"));
  }
  std::ifstream in(path);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("--config: cannot read ", internal::Quote(path)));
  }
  std::string section;
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return At(file, n, "a section is [command]");
      }
      section = std::string(
          absl::StripAsciiWhitespace(line.substr(1, line.size() - 2)));
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return At(file, n, "expected key = value");
    }
    ConfigEntry e{
        .section = section,
        .key = std::string(absl::StripAsciiWhitespace(line.substr(0, eq))),
        .value = std::string(absl::StripAsciiWhitespace(line.substr(eq + 1))),
        .line = n};
    if (e.key.empty()) return At(file, n, "a key is missing before '='");
    file.entries.push_back(std::move(e));
  }
  return file;
}

namespace {

absl::Status CheckSection(const ConfigFile& config, const ConfigEntry& e,
                          const std::vector<std::string>& commands) {
  if (e.section.empty() || commands.empty() ||
      std::find(commands.begin(), commands.end(), e.section) !=
          commands.end()) {
    return absl::OkStatus();
  }
  const std::string near = Nearest(e.section, commands);
  return At(
      config, e.line,
      absl::StrCat(
          "unknown section [", e.section, "]",
          near.empty() ? "" : absl::StrCat(" (did you mean [", near, "]?)")));
}

// `e` as if given on the command line, unless the command line or the
// environment sets it already.
absl::Status ApplyEntry(const ConfigFile& config, const ConfigEntry& e,
                        const FlagSpec& spec,
                        const std::vector<FlagSpec>& flags, ParsedArgs& args) {
  // Refused even when the command line or the environment wins.
  if (e.key == "pg") {
    auto password = DsnPassword(e.value);
    if (!password.ok()) return At(config, e.line, password.status().message());
    if (!password->empty()) {
      return At(config, e.line,
                "a password in the DSN; keep it in ~/.pgpass or PGPASSFILE");
    }
  }
  if (args.Has(e.key)) return absl::OkStatus();  // the command line wins
  if (const char* env = EnvironmentFor(e.key);
      env != nullptr && std::getenv(env) != nullptr) {
    return absl::OkStatus();
  }
  std::vector<std::string> one;
  if (spec.kind == FlagKind::kBool) {
    if (e.value == "false") return absl::OkStatus();
    if (e.value != "true") {
      return At(config, e.line,
                absl::StrCat(e.key, " is true or false, not ",
                             internal::Quote(e.value)));
    }
    one = {"--" + e.key};
  } else {
    one = {"--" + e.key, e.value};
  }
  auto parsed = ParseFlags(one, flags);
  if (!parsed.ok()) return At(config, e.line, parsed.status().message());
  args.values.merge(parsed->values);
  args.counts.merge(parsed->counts);
  args.durations.merge(parsed->durations);
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyConfig(const ConfigFile& config, const std::string& command,
                         const std::vector<FlagSpec>& flags,
                         const std::vector<std::string>& known,
                         ParsedArgs& args,
                         const std::vector<std::string>& commands) {
  for (const ConfigEntry& e : config.entries) {
    TS_RETURN_IF_ERROR(CheckSection(config, e, commands));
    if (!e.section.empty() && e.section != command) continue;
    const auto spec =
        std::find_if(flags.begin(), flags.end(),
                     [&](const FlagSpec& f) { return f.name == e.key; });
    const bool reserved = e.key == "help" || e.key == "config";
    if (spec != flags.end() && !reserved) {
      TS_RETURN_IF_ERROR(ApplyEntry(config, e, *spec, flags, args));
    } else if (reserved ||
               std::find(known.begin(), known.end(), e.key) == known.end()) {
      const std::string near = reserved ? "" : Nearest(e.key, known);
      return At(
          config, e.line,
          absl::StrCat(
              "unknown key ", internal::Quote(e.key),
              near.empty() ? "" : absl::StrCat(" (did you mean ", near, "?)")));
    } else if (!e.section.empty()) {
      return At(config, e.line, absl::StrCat(command, " takes no --", e.key));
    }
    // Otherwise another command's flag.
  }
  return absl::OkStatus();
}

}  // namespace tradestore::cli
