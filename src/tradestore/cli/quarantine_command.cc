// tradestore quarantine: list the rows that could not be copied exactly and
// resolve them (retry a row fixed at the source, or accept it with a reason).
#include "absl/strings/numbers.h"
#include "nlohmann/json.hpp"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/internal/quote.h"
#include "tradestore/migration/quarantine.h"

namespace tradestore::cli {
namespace {

nlohmann::json EntryJson(const QuarantineEntry& e) {
  auto nullable = [](const std::optional<std::string>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
  };
  return {{"source_id", e.source_id},
          {"reason", e.reason},
          {"raw", nlohmann::json::parse(e.raw_json)},
          {"first_seen_at", e.first_seen_at},
          {"last_seen_at", e.last_seen_at},
          {"resolution", nullable(e.resolution)},
          {"resolution_reason", nullable(e.resolution_reason)}};
}

int List(Invocation& call, const QuarantineOptions& options) {
  if (!call.operands.empty()) return call.UsageError("list takes no ids");
  auto entries = ListQuarantine(options, call.args.Has("all"));
  if (!entries.ok()) return call.Fail(entries.status()), kExitUsage;
  nlohmann::json j = nlohmann::json::array();
  int64_t open = 0;
  for (const QuarantineEntry& e : *entries) {
    open += e.resolution ? 0 : 1;
    call.out << e.source_id << "  "
             << (e.resolution ? *e.resolution + " (" +
                                    e.resolution_reason.value_or("") + ")"
                              : std::string("UNRESOLVED"))
             << "  " << internal::Escape(e.reason)
             << "\n      raw: " << internal::Escape(e.raw_json) << "\n";
    j.push_back(EntryJson(e));
  }
  call.out << open << " unresolved row(s)\n";
  if (!call.WriteReport("json", j.dump(2) + "\n")) return kExitUsage;
  return kExitOk;
}

int Run(Invocation& call) {
  QuarantineOptions options;
  options.pg = call.pg;
  options.dry_run = call.args.Has("dry-run");
  if (call.action == "list") return List(call, options);
  std::vector<int64_t> ids;
  for (const std::string& operand : call.operands) {
    int64_t id = 0;
    if (!absl::SimpleAtoi(operand, &id)) {
      return call.UsageError(internal::Quote(operand) + " is not a row id");
    }
    ids.push_back(id);
  }
  if (ids.empty()) return call.UsageError(call.action + " needs row ids");
  absl::StatusOr<std::vector<ResolveOutcome>> outcomes;
  if (call.action == "retry") {
    auto sqlite = SqlitePathFrom(call.args);
    if (!sqlite.ok()) return call.UsageError(sqlite.status().message());
    options.sqlite_path = call.sqlite = *sqlite;
    outcomes = RetryQuarantined(options, ids);
  } else {
    const std::string reason = call.args.Get("reason").value_or("");
    if (reason.empty()) return call.UsageError("accept needs --reason TEXT");
    outcomes = AcceptQuarantined(options, ids, reason);
  }
  if (!outcomes.ok()) return call.Fail(outcomes.status()), kExitUsage;
  if (options.dry_run)
    call.out << "quarantine " << call.action
             << " (dry run, nothing written):\n";
  bool all = true;
  for (const ResolveOutcome& o : *outcomes) {
    call.out << o.source_id << ": " << o.detail << "\n";
    all = all && o.resolved;
  }
  return all ? kExitOk : kExitFailed;
}

}  // namespace

Command QuarantineCommand() {
  return {
      {.name = "quarantine",
       .summary = "list rows that could not be copied; retry or accept them",
       .synopsis = "list|retry|accept [ID...] --pg DSN [--sqlite PATH] "
                   "[--reason TEXT] [--dry-run] [--all] [--json FILE]",
       .description =
           "Rows the backfill could not copy exactly wait in "
           "trades_quarantine with the column and the problem. Fix a row at "
           "the source and `retry` it (it is copied when it converts exactly "
           "now), or `accept` it with the reason it stays out. Moving into "
           "read_postgres needs every row resolved.",
       .flags = {TextFlag("sqlite", "PATH",
                          "retry: the SQLite trade store (default: "
                          "$TRADESTORE_SQLITE)"),
                 BoolFlag("all", "list: resolved rows too"),
                 DryRunFlag("retry, accept: say what would happen to each "
                            "row; change nothing"),
                 TextFlag("reason", "TEXT",
                          "accept: why the row stays out (required)"),
                 JsonFlag("list: write the entries as JSON to FILE (\"-\": "
                          "standard output)")},
       .actions = {{"list", "the unresolved rows (--all: every row)"},
                   {"retry", "copy rows ID... again from SQLite"},
                   {"accept", "keep rows ID... out, with --reason"}},
       .max_operands = 1'000'000,
       .pg = true,
       .exit_codes = "0 done (list: always; a dry run: every row would "
                     "be resolved), 1 some rows not resolved, 2 usage error "
                     "or could not run."},
      Run};
}

}  // namespace tradestore::cli
