// tradestore prepare: the one explicit step that upgrades a legacy SQLite
// file for tradestore, in place. The commands that only read never do.
#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "tradestore/cli/cli.h"
#include "tradestore/cli/command.h"
#include "tradestore/internal/quote.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/sqlite/store_facts.h"

namespace tradestore::cli {
namespace {

int Run(Invocation& call) {
  const std::string shown = internal::Quote(call.sqlite);
  auto ready = SqliteTradeStore::Open({.path = call.sqlite,
                                       .create_if_missing = false,
                                       .require_trades_table = true,
                                       .read_only = true,
                                       .reader_connections = 1});
  if (ready.ok()) {
    call.out << "prepare: " << shown << " is at tradestore schema version "
             << kSqliteSchemaVersion << " already; nothing to do\n";
    return kExitOk;
  }
  // Anything but "not prepared yet" (no file, no trades table, a newer
  // schema, not a database) is the answer.
  auto facts = ReadSqliteStoreFacts(call.sqlite);
  if (!absl::IsFailedPrecondition(ready.status()) || !facts.ok() ||
      (facts->schema_version >= kSqliteSchemaVersion &&
       !facts->store_id.empty())) {
    return call.Fail(ready.status());
  }
  if (call.args.Has("dry-run")) {
    call.out << "prepare: " << shown << " would be upgraded in place to "
             << "tradestore schema version " << kSqliteSchemaVersion
             << " (added columns and tables, no row rewritten); dry run, "
                "nothing changed\n";
    return kExitOk;
  }
  auto store = SqliteTradeStore::Open({.path = call.sqlite,
                                       .create_if_missing = false,
                                       .require_trades_table = true,
                                       .reader_connections = 1});
  if (!store.ok()) return call.Fail(store.status());
  const std::vector<std::string>& extra = (*store)->extra_columns();
  call.out << "prepare: " << shown << " upgraded in place to tradestore "
           << "schema version " << kSqliteSchemaVersion
           << " (no row rewritten)";
  if (!extra.empty()) {
    call.out << "; legacy columns kept as they are: "
             << absl::StrJoin(extra, ", ");
  }
  call.out << "\n";
  return kExitOk;
}

}  // namespace

Command PrepareCommand() {
  return {{.name = "prepare",
           .summary = "upgrade a legacy SQLite store for tradestore, once",
           .synopsis = "--sqlite PATH [--dry-run]",
           .description =
               "Adds what tradestore needs to a legacy SQLite trade store, in "
               "place and in one transaction: the columns it lacks (client "
               "order id, fee, version, created and updated times), "
               "tradestore's own tables and indexes, a store id, WAL mode. "
               "No row is rewritten. The embedded store's open does the same; "
               "verify, backfill --dry-run and archive open the file "
               "read-only and refuse one that is not prepared (status reads "
               "any). Safe to repeat.",
           .flags = {DryRunFlag("say whether the file needs it, change "
                                "nothing")},
           .sqlite = true},
          Run};
}

}  // namespace tradestore::cli
