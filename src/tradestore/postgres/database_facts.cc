#include "tradestore/postgres/database_facts.h"

#include <pqxx/tablereader>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/sha256.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/postgres/row_text.h"

namespace tradestore {
namespace {

// The digest inside `txn`, in its snapshot.
TradesDigest DigestIn(pqxx::work& txn) {
  TradesDigest d;
  internal::Sha256 sha;
  if (txn.exec("SELECT to_regclass('trades') IS NOT NULL")[0][0].as<bool>()) {
    txn.exec("SET LOCAL TimeZone = 'UTC'");
    txn.exec("SET LOCAL DateStyle = 'ISO'");
    std::vector<std::string> no_columns;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    // COPY (query) TO STDOUT: a parenthesised query is a valid name here.
    pqxx::tablereader reader(txn,
                             absl::StrCat("(SELECT ", pg::kPgSelectColumns,
                                          ", extra FROM trades ORDER BY id)"),
                             no_columns.begin(), no_columns.end());
#pragma GCC diagnostic pop
    std::string line;
    while (reader.get_raw_line(line)) {
      sha.Update(line);
      if (line.empty() || line.back() != '\n') sha.Update("\n");
      ++d.rows;
    }
    reader.complete();
    const pqxx::result max = txn.exec("SELECT max(id) FROM trades");
    if (!max[0][0].is_null()) d.max_id = max[0][0].as<int64_t>();
  }
  d.sha256 = sha.HexDigest();
  return d;
}

}  // namespace

absl::StatusOr<TradesDigest> DigestTrades(PgPool& pool) {
  TradesDigest digest;
  TS_RETURN_IF_ERROR(pg::Transact(
      pool,
      [&](pqxx::work& txn) {
        txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        digest = DigestIn(txn);
        return absl::OkStatus();
      },
      PgPool::Kind::kRead, pg::Bound::kNone));
  return digest;
}

absl::StatusOr<TradesDigest> DigestTradesAtExportedSnapshot(
    PgPool& pool,
    const std::function<absl::Status(const std::string&)>& during) {
  TradesDigest digest;
  TS_RETURN_IF_ERROR(pg::Transact(
      pool,
      [&](pqxx::work& txn) -> absl::Status {
        txn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        const std::string snapshot =
            txn.exec("SELECT pg_export_snapshot()")[0][0].as<std::string>();
        TS_RETURN_IF_ERROR(during(snapshot));
        digest = DigestIn(txn);
        return absl::OkStatus();
      },
      PgPool::Kind::kRead, pg::Bound::kNone));
  return digest;
}

absl::StatusOr<std::string> CurrentDatabase(PgPool& pool) {
  std::string name;
  TS_RETURN_IF_ERROR(pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        name = txn.exec("SELECT current_database()")[0][0].as<std::string>();
        return absl::OkStatus();
      },
      pg::Bound::kNone));
  return name;
}

absl::StatusOr<std::string> ServerVersion(PgPool& pool) {
  std::string version;
  TS_RETURN_IF_ERROR(pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        version = txn.exec("SHOW server_version")[0][0].as<std::string>();
        return absl::OkStatus();
      },
      pg::Bound::kNone));
  return version;
}

absl::StatusOr<bool> DatabaseHasTables(PgPool& pool) {
  bool has = false;
  TS_RETURN_IF_ERROR(pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        has =
            txn.exec(
                   "SELECT EXISTS (SELECT 1 FROM pg_class c JOIN "
                   "pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind "
                   "IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
                   "'information_schema') AND n.nspname NOT LIKE 'pg_toast%')")
                [0][0]
                    .as<bool>();
        return absl::OkStatus();
      },
      pg::Bound::kNone));
  return has;
}

absl::Status CreateDatabase(PgPool& pool, const std::string& name) {
  // Not in a transaction block: CREATE DATABASE refuses one.
  return pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        txn.exec(absl::StrCat("CREATE DATABASE ", txn.quote_name(name)));
        return absl::OkStatus();
      },
      pg::Bound::kNone);
}

absl::Status DropDatabase(PgPool& pool, const std::string& name) {
  return pg::ReadEach(
      pool,
      [&](pqxx::transaction_base& txn) {
        txn.exec(absl::StrCat("DROP DATABASE IF EXISTS ", txn.quote_name(name),
                              " WITH (FORCE)"));
        return absl::OkStatus();
      },
      pg::Bound::kNone);
}

}  // namespace tradestore
