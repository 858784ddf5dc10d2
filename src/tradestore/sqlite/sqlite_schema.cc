#include "tradestore/sqlite/sqlite_schema.h"

#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tradestore/internal/embedded_sql.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/sqlite/sqlite_trade_store.h"

namespace tradestore::sqlite {
namespace {

struct ColumnInfo {
  std::string type;
  bool primary_key = false;
};

// SQLite's affinity rules (datatype3.html, section 3.1): only TEXT affinity
// (CHAR, CLOB, TEXT) and BLOB affinity (BLOB or no type) keep decimal text.
bool KeepsDecimalText(const std::string& declared) {
  const std::string t = absl::AsciiStrToUpper(declared);
  if (absl::StrContains(t, "INT")) return false;
  if (absl::StrContains(t, "CHAR") || absl::StrContains(t, "CLOB") ||
      absl::StrContains(t, "TEXT")) {
    return true;
  }
  return t.empty() || absl::StrContains(t, "BLOB");
}

absl::StatusOr<std::map<std::string, ColumnInfo>> TableColumns(SqliteDb* db) {
  TS_ASSIGN_OR_RETURN(Statement stmt,
                      db->Prepare("SELECT name, type, pk FROM "
                                  "pragma_table_info('trades')"));
  std::map<std::string, ColumnInfo> columns;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    columns[absl::AsciiStrToLower(stmt.ColumnText(0))] = {
        stmt.ColumnText(1), stmt.ColumnInt(2) != 0};
  }
  return columns;
}

absl::StatusOr<int64_t> QueryInt(SqliteDb* db, const std::string& sql) {
  TS_ASSIGN_OR_RETURN(Statement stmt, db->Prepare(sql));
  TS_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

// Whether trades.id is the table's rowid, as "id INTEGER PRIMARY KEY" makes
// it. Every read is by rowid range; a key declared otherwise ("INTEGER
// PRIMARY KEY DESC", a key of several columns, WITHOUT ROWID) makes id an
// ordinary column that may hold text, NULL or duplicates, and those rows
// would be invisible. SQLite's own plan says which: reading a rowid alias is
// the Rowid opcode, any other column is Column.
absl::StatusOr<bool> IdIsRowid(SqliteDb* db) {
  TS_ASSIGN_OR_RETURN(Statement plan,
                      db->Prepare("EXPLAIN SELECT id FROM trades"));
  bool rowid = false;
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, plan.Step());
    if (!row) break;
    const std::string opcode = plan.ColumnText(1);
    if (opcode == "Column") return false;
    if (opcode == "Rowid" || opcode == "IdxRowid") rowid = true;
  }
  return rowid;
}

absl::Status RequireRowidKey(SqliteDb* db) {
  TS_ASSIGN_OR_RETURN(const bool rowid, IdIsRowid(db));
  if (rowid) return absl::OkStatus();
  return absl::FailedPreconditionError(
      "trades.id is not the table's rowid (declared other than \"id INTEGER "
      "PRIMARY KEY\": with DESC, in a key of several columns, or WITHOUT "
      "ROWID), so ids may be text, NULL or repeated and rows could not all "
      "be read; copy the rows into a table with \"id INTEGER PRIMARY KEY\" "
      "first (nothing was changed)");
}

// Adds what a legacy trades table lacks. Existing rows keep their values; the
// new columns read as NULL (or the default) on them.
absl::Status UpgradeLegacy(SqliteDb* db,
                           const std::map<std::string, ColumnInfo>& columns) {
  std::vector<std::string> missing;
  for (const char* required :
       {"id", "symbol", "side", "quantity", "price", "timestamp", "status"}) {
    if (!columns.count(required)) missing.push_back(required);
  }
  if (!missing.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("trades table lacks required column(s): ",
                     absl::StrJoin(missing, ", ")));
  }
  const ColumnInfo& id = columns.at("id");
  if (!id.primary_key || absl::AsciiStrToUpper(id.type) != "INTEGER") {
    return absl::FailedPreconditionError(
        absl::StrCat("trades.id is declared \"", id.type,
                     "\"; tradestore needs it to be an INTEGER PRIMARY KEY"));
  }
  TS_RETURN_IF_ERROR(RequireRowidKey(db));
  static const std::pair<const char*, const char*> kAdded[] = {
      {"client_order_id", "TEXT"},
      {"fee", "TEXT"},
      {"version", "INTEGER NOT NULL DEFAULT 1"},
      {"created_at", "TEXT"},
      {"updated_at", "TEXT"},
  };
  for (const auto& [name, type] : kAdded) {
    if (columns.count(name)) continue;
    TS_RETURN_IF_ERROR(db->Exec(
        absl::StrCat("ALTER TABLE trades ADD COLUMN ", name, " ", type)));
  }
  return absl::OkStatus();
}

std::string NewStoreId() {
  std::random_device rd;
  return absl::StrFormat("%08x%08x%08x%08x", rd(), rd(), rd(), rd());
}

// What the store needs to know of a current schema; reads only.
absl::StatusOr<SchemaInfo> DescribeSchema(SqliteDb* db) {
  TS_RETURN_IF_ERROR(RequireRowidKey(db));
  SchemaInfo info;
  {
    TS_ASSIGN_OR_RETURN(Statement id,
                        db->Prepare("SELECT value FROM tradestore_meta WHERE "
                                    "key = 'store_id'"));
    TS_ASSIGN_OR_RETURN(bool row, id.Step());
    if (row) info.store_id = id.ColumnText(0);
  }
  TS_ASSIGN_OR_RETURN(
      Statement order,
      db->Prepare("SELECT name FROM pragma_table_info('trades') ORDER BY cid"));
  for (;;) {
    TS_ASSIGN_OR_RETURN(bool row, order.Step());
    if (!row) break;
    std::string name = order.ColumnText(0);
    if (!KnownColumns().count(absl::AsciiStrToLower(name))) {
      info.extra_columns.push_back(std::move(name));
    }
  }
  TS_ASSIGN_OR_RETURN(auto columns, TableColumns(db));
  info.quantity_as_blob = !KeepsDecimalText(columns["quantity"].type);
  info.price_as_blob = !KeepsDecimalText(columns["price"].type);
  info.fee_as_blob = !KeepsDecimalText(columns["fee"].type);
  TS_ASSIGN_OR_RETURN(
      Statement outbox,
      db->Prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                  "AND name = 'tradestore_outbox' AND sql LIKE "
                  "'%AUTOINCREMENT%'"));
  TS_ASSIGN_OR_RETURN(bool row, outbox.Step());
  info.outbox_autoincrement = row && outbox.ColumnInt(0) > 0;
  return info;
}

struct FileState {
  bool has_trades = false;
  bool has_meta = false;
  int64_t user_version = 0;
  // Without our meta table the user_version, if any, was set by older code
  // and says nothing about our schema.
  int64_t ours() const { return has_meta ? user_version : 0; }
};

absl::StatusOr<FileState> ReadFileState(SqliteDb* db) {
  FileState f;
  TS_ASSIGN_OR_RETURN(
      const int64_t trades,
      QueryInt(db,
               "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
               "AND name = 'trades'"));
  TS_ASSIGN_OR_RETURN(
      const int64_t meta,
      QueryInt(db,
               "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
               "AND name = 'tradestore_meta'"));
  TS_ASSIGN_OR_RETURN(f.user_version, QueryInt(db, "PRAGMA user_version"));
  f.has_trades = trades > 0;
  f.has_meta = meta > 0;
  return f;
}

absl::Status RefuseNewer(const FileState& file) {
  if (file.ours() <= kSqliteSchemaVersion) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the SQLite file has tradestore schema version ",
                   file.ours(), "; this build knows up to ",
                   kSqliteSchemaVersion, " (upgrade tradestore)"));
}

// The schema when it is current and has a store id, else nullopt. In a
// read transaction: most opens find it current, and a busy service holds
// the write lock most of the time.
absl::StatusOr<std::optional<SchemaInfo>> CurrentSchema(SqliteDb* db) {
  TS_RETURN_IF_ERROR(db->Exec("BEGIN"));
  auto info = [&]() -> absl::StatusOr<std::optional<SchemaInfo>> {
    TS_ASSIGN_OR_RETURN(
        int64_t ready,
        QueryInt(db, absl::StrCat(
                         "SELECT (SELECT count(*) FROM sqlite_master WHERE "
                         "type = 'table' AND name IN ('trades', "
                         "'tradestore_meta', 'tradestore_outbox')) = 3 AND "
                         "(SELECT user_version FROM pragma_user_version) = ",
                         kSqliteSchemaVersion)));
    if (!ready) return std::optional<SchemaInfo>();
    TS_ASSIGN_OR_RETURN(SchemaInfo described, DescribeSchema(db));
    if (described.store_id.empty()) return std::optional<SchemaInfo>();
    return std::optional<SchemaInfo>(std::move(described));
  }();
  db->Exec("COMMIT").IgnoreError();
  return info;
}

}  // namespace

const std::set<std::string>& KnownColumns() {
  static const auto* known = new std::set<std::string>{
      "id",    "symbol",    "side",       "quantity",
      "price", "timestamp", "status",     "client_order_id",
      "fee",   "version",   "created_at", "updated_at"};
  return *known;
}

namespace {

// A file that has trades but not this build's schema: the columns, tables
// and indexes it lacks, and the user_version that older code set kept.
absl::Status UpgradeTradesFile(SqliteDb* db, int64_t user_version,
                               bool has_meta) {
  TS_ASSIGN_OR_RETURN(auto columns, TableColumns(db));
  TS_RETURN_IF_ERROR(UpgradeLegacy(db, columns));
  TS_RETURN_IF_ERROR(db->Exec(
      "CREATE TABLE IF NOT EXISTS tradestore_meta (key TEXT PRIMARY KEY, "
      "value TEXT NOT NULL);"
      "CREATE INDEX IF NOT EXISTS idx_trades_symbol ON trades(symbol);"
      "CREATE UNIQUE INDEX IF NOT EXISTS idx_trades_client_order_id ON "
      "trades(client_order_id) WHERE client_order_id IS NOT NULL;"
      // Partial: legacy rows (NULL) cost nothing, so adding it to a large
      // legacy file is quick. Incremental verify reads changes through it.
      "CREATE INDEX IF NOT EXISTS idx_trades_updated_at ON "
      "trades(updated_at) WHERE updated_at IS NOT NULL;"
      "CREATE TABLE IF NOT EXISTS tradestore_outbox (seq INTEGER PRIMARY "
      "KEY, trade_id INTEGER NOT NULL, version INTEGER NOT NULL, enqueued_at "
      "TEXT NOT NULL);"));
  if (!has_meta && user_version != 0) {
    TS_ASSIGN_OR_RETURN(
        Statement keep,
        db->Prepare("INSERT OR REPLACE INTO tradestore_meta VALUES "
                    "('legacy_user_version', ?)"));
    TS_RETURN_IF_ERROR(keep.Bind(1, std::to_string(user_version)).Run());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SchemaInfo> UpgradeSchema(SqliteDb* db,
                                         bool require_trades_table) {
  TS_ASSIGN_OR_RETURN(auto current, CurrentSchema(db));
  if (current) return *std::move(current);
  TS_ASSIGN_OR_RETURN(auto txn, WriteTransaction::Begin(db));
  TS_ASSIGN_OR_RETURN(const FileState file, ReadFileState(db));
  const bool has_trades = file.has_trades;
  const int64_t our_version = file.ours();
  TS_RETURN_IF_ERROR(RefuseNewer(file));
  if (!has_trades && require_trades_table) {
    // Could not run, rather than a refusal to act on: exit 2 in the CLI.
    return absl::NotFoundError(
        "the SQLite file has no trades table (is it the trade store?)");
  }
  if (!has_trades) {
    TS_RETURN_IF_ERROR(db->Exec(std::string(internal::SqliteSchemaSql())));
  } else if (our_version < kSqliteSchemaVersion) {
    TS_RETURN_IF_ERROR(UpgradeTradesFile(db, file.user_version, file.has_meta));
  }
  if (our_version < kSqliteSchemaVersion) {
    TS_RETURN_IF_ERROR(
        db->Exec(absl::StrCat("PRAGMA user_version = ", kSqliteSchemaVersion)));
  }
  {
    TS_ASSIGN_OR_RETURN(Statement id,
                        db->Prepare("INSERT OR IGNORE INTO tradestore_meta "
                                    "VALUES ('store_id', ?)"));
    TS_RETURN_IF_ERROR(id.Bind(1, NewStoreId()).Run());
  }
  TS_ASSIGN_OR_RETURN(SchemaInfo info, DescribeSchema(db));
  TS_RETURN_IF_ERROR(txn->Commit());
  return info;
}

absl::StatusOr<SchemaInfo> ReadCurrentSchema(SqliteDb* db) {
  TS_ASSIGN_OR_RETURN(auto current, CurrentSchema(db));
  if (current) return *std::move(current);
  TS_ASSIGN_OR_RETURN(const FileState file, ReadFileState(db));
  if (!file.has_trades) {
    return absl::NotFoundError(
        "the SQLite file has no trades table (is it the trade store?)");
  }
  TS_RETURN_IF_ERROR(RefuseNewer(file));
  const int64_t ours = file.ours();
  return absl::FailedPreconditionError(absl::StrCat(
      "the SQLite file is not prepared for tradestore yet (schema version ",
      ours, " of ", kSqliteSchemaVersion,
      "); this command only reads, so it changed nothing: run `tradestore "
      "prepare --sqlite FILE` once, with write access, to upgrade it in "
      "place (the embedded store's open does the same)"));
}

}  // namespace tradestore::sqlite
