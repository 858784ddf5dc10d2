// tradestore quarantine: list the rows that could not be copied exactly and
// resolve them (retry a row fixed at the source, or accept it with a reason).
#include <ostream>

#include "absl/strings/numbers.h"
#include "nlohmann/json.hpp"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/flags.h"
#include "tradestore/cli/output.h"
#include "tradestore/internal/quote.h"
#include "tradestore/migration/quarantine.h"

namespace tradestore::cli {
namespace {

const std::vector<FlagSpec>& QuarantineFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      SqliteFlag(),
      PgFlag(),
      {"all", "", "list: resolved rows too"},
      {"reason", "TEXT", "accept: why the row stays out (required)"},
      {"json", "FILE", "list: write the entries as JSON to FILE"},
      {"deadline", "SECONDS",
       "give up reaching Postgres after this long (default 30)"},
      HelpFlag(),
  };
  return *flags;
}

void QuarantineUsage(std::ostream& os) {
  os << "usage: tradestore quarantine list [--all] [--json FILE] --pg DSN\n"
        "       tradestore quarantine retry ID... --sqlite PATH --pg DSN\n"
        "       tradestore quarantine accept ID... --reason TEXT --pg DSN\n\n"
        "Rows the backfill could not copy exactly wait in trades_quarantine\n"
        "with the column and the problem. Fix a row at the source and\n"
        "`retry` it (it is copied when it converts exactly now), or `accept`\n"
        "it with the reason it stays out. Moving into read_postgres needs\n"
        "every row resolved.\n\n"
        "Exit codes: 0 done (list: always), 1 some rows not resolved, 2 usage\n"
        "error or could not run.\n\nflags:\n"
     << FlagHelp(QuarantineFlags());
}

int Usage(std::ostream& err, absl::string_view message) {
  err << "tradestore quarantine: " << message << "\n\n";
  QuarantineUsage(err);
  return kExitUsage;
}

int List(const ParsedArgs& args, const QuarantineOptions& options,
         std::ostream& out, std::ostream& err) {
  auto entries = ListQuarantine(options, args.Has("all"));
  if (!entries.ok()) {
    err << "tradestore quarantine: " << entries.status().message() << "\n";
    return kExitUsage;
  }
  nlohmann::json j = nlohmann::json::array();
  int64_t open = 0;
  for (const QuarantineEntry& e : *entries) {
    open += e.resolution ? 0 : 1;
    out << e.source_id << "  "
        << (e.resolution ? *e.resolution + " (" + e.resolution_reason.value_or("") + ")"
                         : std::string("UNRESOLVED"))
        << "  " << internal::Escape(e.reason)
        << "\n      raw: " << internal::Escape(e.raw_json) << "\n";
    j.push_back({{"source_id", e.source_id},
                 {"reason", e.reason},
                 {"raw", nlohmann::json::parse(e.raw_json)},
                 {"first_seen_at", e.first_seen_at},
                 {"last_seen_at", e.last_seen_at},
                 {"resolution", e.resolution ? nlohmann::json(*e.resolution)
                                             : nlohmann::json()},
                 {"resolution_reason", e.resolution_reason
                                           ? nlohmann::json(*e.resolution_reason)
                                           : nlohmann::json()}});
  }
  out << open << " unresolved row(s)\n";
  if (auto json = args.Get("json")) {
    if (absl::Status s = WriteReport(*json, j.dump(2) + "\n", out,
                                         options.sqlite_path); !s.ok()) {
      err << "tradestore quarantine: " << s.message() << "\n";
      return kExitUsage;
    }
  }
  return kExitOk;
}

}  // namespace

int RunQuarantineCommand(const std::vector<std::string>& args,
                         std::ostream& out, std::ostream& err) {
  auto parsed = ParseFlags(args, QuarantineFlags());
  if (!parsed.ok()) return Usage(err, parsed.status().message());
  if (parsed->Has("help")) {
    QuarantineUsage(out);
    return kExitOk;
  }
  if (parsed->positional.empty()) return Usage(err, "list, retry or accept?");
  const std::string action = parsed->positional[0];
  QuarantineOptions options;
  options.pg.dsn = PgDsnFrom(*parsed);
  if (absl::Status s = DeadlineFrom(*parsed, &options.pg.backoff.deadline);
      !s.ok()) {
    return Usage(err, s.message());
  }
  if (action == "list") {
    if (parsed->positional.size() > 1) return Usage(err, "list takes no ids");
    return List(*parsed, options, out, err);
  }
  if (action != "retry" && action != "accept") {
    return Usage(err, "unknown action \"" + action + "\"");
  }
  std::vector<int64_t> ids;
  for (size_t i = 1; i < parsed->positional.size(); ++i) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(parsed->positional[i], &id) || id <= 0) {
      return Usage(err, "\"" + parsed->positional[i] + "\" is not a row id");
    }
    ids.push_back(id);
  }
  if (ids.empty()) return Usage(err, action + " needs one or more row ids");
  absl::StatusOr<std::vector<ResolveOutcome>> outcomes;
  if (action == "retry") {
    auto sqlite = SqlitePathFrom(*parsed);
    if (!sqlite.ok()) return Usage(err, sqlite.status().message());
    options.sqlite_path = *sqlite;
    outcomes = RetryQuarantined(options, ids);
  } else {
    const std::string reason = parsed->Get("reason").value_or("");
    if (reason.empty()) return Usage(err, "accept needs --reason TEXT");
    outcomes = AcceptQuarantined(options, ids, reason);
  }
  if (!outcomes.ok()) {
    err << "tradestore quarantine: " << outcomes.status().message() << "\n";
    return kExitUsage;
  }
  bool all = true;
  for (const ResolveOutcome& o : *outcomes) {
    out << o.source_id << ": " << o.detail << "\n";
    all = all && o.resolved;
  }
  return all ? kExitOk : kExitFailed;
}

}  // namespace tradestore::cli
