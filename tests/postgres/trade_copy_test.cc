// Binary COPY into Postgres against the harness's real server: every value
// lands exactly as the trade holds it (read back as Postgres prints it),
// errors map to the codes PgPool callers act on, and the connection stays
// usable afterwards, directly and through PgBouncer.
#include "tradestore/postgres/trade_copy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "testing/trades.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/postgres/pg_binary_copy.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/postgres/row_text.h"
#include "tradestore/verify/extra_text.h"

namespace tradestore::pg {
namespace {

using testing::MakeTrade;
using testing::PgEnvironment;
using testing::TestPgOptions;

BackfillRow Row(int64_t id, const char* quantity, const char* price,
                const char* when) {
  BackfillRow row{MakeTrade("BTC-USD", quantity, price, when), ""};
  row.trade.id = id;
  row.trade.created_at = row.trade.updated_at = row.trade.timestamp;
  return row;
}

class TradeCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = PgEnvironment::Get().FreshMigratedDatabase();
    pool_ = Pool(PgEnvironment::Get().pg().Dsn(db_));
  }

  static std::unique_ptr<PgPool> Pool(const std::string& dsn) {
    auto pool = PgPool::Create(TestPgOptions(dsn));
    EXPECT_TRUE(pool.ok()) << pool.status();
    return pool.ok() ? *std::move(pool) : nullptr;
  }

  static absl::Status Copy(PgPool& pool, const std::vector<BackfillRow>& rows) {
    const std::string data = CopyData(rows);
    return pg::Transact(pool, [&](pqxx::work& txn) {
      CopyRows(txn, "trades", data);
      return absl::OkStatus();
    });
  }

  // Each row of `sql` as its fields joined by '|'.
  std::vector<std::string> Query(const std::string& sql) {
    auto out = PgEnvironment::Get().pg().Psql(db_, sql);
    EXPECT_TRUE(out.ok()) << out.status();
    std::vector<std::string> lines;
    size_t at = 0;
    while (out.ok() && at < out->size()) {
      size_t end = out->find('\n', at);
      if (end == std::string::npos) end = out->size();
      lines.push_back(out->substr(at, end - at));
      at = end + 1;
    }
    return lines;
  }

  std::string db_;
  std::unique_ptr<PgPool> pool_;
};

// Decimals at both ends of DECIMAL(18,8) and around the base-10000 digit
// boundaries, timestamps around Postgres's epoch and at the ends of time.
std::vector<BackfillRow> EdgeRows() {
  std::vector<BackfillRow> rows = {
      Row(1, "0.00000001", "9999999999.99999999", "1970-01-01T00:00:00Z"),
      Row(2, "10000.0001", "100000000", "1999-12-31T23:59:59.999999Z"),
      Row(3, "1", "0.1", "2000-01-01T00:00:00Z"),
      Row(4, "12345678.87654321", "99990000.00009999",
          "2024-02-29T23:59:59.000001Z"),
      Row(5, "0.5", "1", "9999-12-31T23:59:59.999999Z"),
  };
  rows[0].trade.fee = *Decimal::Parse("-0.00000001");
  rows[1].trade.fee = *Decimal::Parse("0");
  rows[2].trade.fee = *Decimal::Parse("-9999999999.99999999");
  return rows;
}

TEST_F(TradeCopyTest, DecimalsAndTimestampsLandExactly) {
  std::vector<BackfillRow> rows = EdgeRows();
  rows[3].trade.version = 7;
  TS_ASSERT_OK(Copy(*pool_, rows));
  EXPECT_EQ(
      Query(
          "SELECT id, quantity, price, coalesce(fee::text, 'null'), "
          "\"timestamp\" AT TIME ZONE 'UTC', version FROM trades ORDER BY id"),
      (std::vector<std::string>{
          "1|0.00000001|9999999999.99999999|-0.00000001|1970-01-01 00:00:00|1",
          "2|10000.00010000|100000000.00000000|0.00000000|"
          "1999-12-31 23:59:59.999999|1",
          "3|1.00000000|0.10000000|-9999999999.99999999|2000-01-01 00:00:00|1",
          "4|12345678.87654321|99990000.00009999|null|"
          "2024-02-29 23:59:59.000001|7",
          "5|0.50000000|1.00000000|null|9999-12-31 23:59:59.999999|1"}));
}

// The verifier compares rows as bytes and decodes only those that differ:
// a trade must encode to exactly what Postgres sends for it, however it was
// written (binary COPY here, SQL text below), and its extra columns to what
// jsonb prints for them (verify::JsonbText), whatever the values.
TEST_F(TradeCopyTest, AppendTradeRowIsWhatPostgresSendsForTheTrade) {
  std::vector<BackfillRow> rows = EdgeRows();
  rows[1].trade.client_order_id = "ordre-\xc3\xa9t\xc3\xa9";
  rows[2].extra_json = R"({"desk": "fx"})";
  // As the backfill writes them: nlohmann's text of the legacy values.
  const nlohmann::json legacy = {{"venue", "XLON"},
                                 {"a", 1},
                                 {"bb", -2.5},
                                 {"tiny", 1.5e-7},
                                 {"huge", 1e20},
                                 {"minus_zero", -0.0},
                                 {"ten", 10.0},
                                 {"third", 1.0 / 3},
                                 {"e15", 1e15},
                                 {"e16", 1e16},
                                 {"e300", 1e300},
                                 {"smallest", 4.9406564584124654e-324},
                                 {"neg_small", -2.5e-5},
                                 {"big_int", 9007199254740993LL},
                                 {"ctl", "a\x01\"\\\n\t\x7fz \xc3\xa9"},
                                 {"blob", {{"$hex", "00ff"}}},
                                 {"none", nullptr},
                                 {"yes", true},
                                 {"list", {1, 2.0, "x"}}};
  rows[3].extra_json = legacy.dump();
  TS_ASSERT_OK(Copy(*pool_, rows));
  Trade typed = Row(6, "100.5", "0.00010000", "2023-06-01T12:00:00.5Z").trade;
  typed.side = Side::kSell;
  typed.status = TradeStatus::kPartiallyFilled;
  typed.fee = *Decimal::Parse("12.34");
  typed.version = 7;
  Query(
      "INSERT INTO trades (id, symbol, side, quantity, price, "
      "\"timestamp\", status, fee, version, created_at, updated_at) "
      "VALUES (6, 'BTC-USD', 'SELL', 100.50000, 0.0001, "
      "'2023-06-01 12:00:00.5+00', 'PARTIALLY_FILLED', 12.340, 7, "
      "'2023-06-01 12:00:00.5+00', '2023-06-01 12:00:00.5+00')");
  // The verifier's select sends version, created_at and updated_at as NULL
  // only where they hold their derived value (1, timestamp, created_at):
  // here each differs from it by the smallest step, or holds it alone.
  Trade made_later = Row(7, "1", "2", "2023-06-01T12:00:00Z").trade;
  made_later.created_at = *Timestamp::Parse("2023-06-01T12:00:00.000001Z");
  made_later.updated_at = *Timestamp::Parse("2023-06-01T12:00:00.000002Z");
  Trade updated = Row(8, "1", "2", "2023-06-01T12:00:00Z").trade;
  updated.version = 2;
  updated.created_at = *Timestamp::Parse("2023-06-01T11:59:59.999999Z");
  updated.updated_at = updated.created_at;
  Query(
      "INSERT INTO trades (id, symbol, side, quantity, price, "
      "\"timestamp\", status, version, created_at, updated_at) VALUES "
      "(7, 'BTC-USD', 'BUY', 1, 2, '2023-06-01 12:00:00+00', 'NEW', 1, "
      "'2023-06-01 12:00:00.000001+00', '2023-06-01 12:00:00.000002+00'), "
      "(8, 'BTC-USD', 'BUY', 1, 2, '2023-06-01 12:00:00+00', 'NEW', 2, "
      "'2023-06-01 11:59:59.999999+00', '2023-06-01 11:59:59.999999+00')");

  std::vector<Trade> trades;
  std::vector<std::string> extras;
  for (const BackfillRow& row : rows) {
    trades.push_back(row.trade);
    extras.push_back(
        row.extra_json.empty()
            ? ""
            : verify::JsonbText(nlohmann::json::parse(row.extra_json)));
  }
  for (const Trade& t : {typed, made_later, updated}) {
    trades.push_back(t);
    extras.emplace_back();
  }
  std::string encoded;
  std::vector<size_t> ends;
  for (size_t i = 0; i < trades.size(); ++i) {
    AppendTradeRow(&encoded, trades[i], extras[i]);
    ends.push_back(encoded.size());
  }

  std::vector<std::string> sent;
  TS_ASSERT_OK(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        sent.clear();
        return CopyOutInTransaction(
            txn,
            absl::StrCat("SELECT ", pg::kPgVerifyColumns,
                         " FROM trades ORDER BY id"),
            [&](const BinaryRow& row) {
              sent.emplace_back(row.raw());
              return absl::OkStatus();
            });
      },
      PgPool::Kind::kRead));
  ASSERT_EQ(sent.size(), trades.size());
  for (size_t i = 0; i < trades.size(); ++i) {
    const size_t begin = i == 0 ? 0 : ends[i - 1];
    EXPECT_EQ(absl::CHexEscape(encoded.substr(begin, ends[i] - begin)),
              absl::CHexEscape(sent[i]))
        << "trade " << trades[i].id;
    // And decodes back to the trade, NULLs restored to their values.
    Trade decoded;
    std::string extra;
    TS_EXPECT_OK(pg::DecodeRawTrade(sent[i], decoded, extra));
    EXPECT_EQ(decoded, trades[i]) << "trade " << trades[i].id;
    EXPECT_EQ(extra, extras[i]) << "trade " << trades[i].id;
  }
}

TEST_F(TradeCopyTest, TextIsCopiedByteForByteAndExtraAsJsonb) {
  BackfillRow row = Row(1, "1", "2", "2024-01-01T00:00:00Z");
  row.trade.symbol = "\xC3\x84-\xE2\x82\xAC\\N";  // UTF-8 and a COPY escape
  row.trade.side = Side::kSell;
  row.trade.status = TradeStatus::kPartiallyFilled;
  row.trade.client_order_id = "tab\there\nnewline\\back";
  row.extra_json = R"({"legacy_desk": "a\tb", "n": 1.5})";
  TS_ASSERT_OK(Copy(*pool_, {row}));
  EXPECT_EQ(Query("SELECT symbol = E'\\u00C4-\\u20AC\\\\N', side, status, "
                  "client_order_id = E'tab\\there\\nnewline\\\\back', "
                  "extra->>'legacy_desk' = E'a\\tb', extra->'n' FROM trades"),
            (std::vector<std::string>{"t|SELL|PARTIALLY_FILLED|t|t|1.5"}));
}

TEST_F(TradeCopyTest, AShortCopyOutCutOffMidwayStartsOverOnAFreshConnection) {
  int attempts = 0;
  std::vector<int64_t> seen;
  TS_ASSERT_OK(pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
    seen.clear();
    const bool first = ++attempts == 1;
    const int pid = txn.exec("SELECT pg_backend_pid()")[0][0].as<int>();
    // The first attempt asks for far more than the socket buffers hold and
    // loses its server process at the first row. Signalled, not waited for:
    // a server blocked on the full socket may end only once this reads on.
    return CopyOutInTransaction(
        txn,
        absl::StrCat(
            "SELECT g::int8, repeat('x', 100) FROM generate_series(1, ",
            first ? 3000000 : 1000, ") g"),
        [&](const BinaryRow&) {
          if (first && seen.empty()) {
            EXPECT_EQ(
                Query(absl::StrCat("SELECT pg_terminate_backend(", pid, ")")),
                (std::vector<std::string>{"t"}));
          }
          seen.push_back(static_cast<int64_t>(seen.size()) + 1);
          return absl::OkStatus();
        });
  }));
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(seen.size(), 1000u);  // the cut-off attempt's rows were dropped
}

TEST_F(TradeCopyTest, ErrorsMapToTheirCodesAndTheConnectionStaysUsable) {
  TS_ASSERT_OK(Copy(*pool_, {Row(1, "1", "2", "2024-01-01T00:00:00Z")}));
  // A second row with id 1: the unique violation a caller upserts on.
  EXPECT_EQ(Copy(*pool_, {Row(1, "1", "2", "2024-01-01T00:00:00Z")}).code(),
            absl::StatusCode::kAlreadyExists);
  // A value the schema refuses: the server's message names it.
  BackfillRow wide = Row(2, "1", "2", "2024-01-01T00:00:00Z");
  wide.trade.symbol = std::string(21, 'X');
  const absl::Status refused = Copy(*pool_, {wide});
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_NE(refused.message().find("character varying(20)"), std::string::npos)
      << refused;
  // The same pooled connection carries on: nothing was left half-read.
  TS_ASSERT_OK(Copy(*pool_, {Row(3, "1", "2", "2024-01-01T00:00:00Z")}));
  EXPECT_EQ(Query("SELECT string_agg(id::text, ',' ORDER BY id) FROM trades"),
            (std::vector<std::string>{"1,3"}));
}

TEST_F(TradeCopyTest, ManyRowsThroughPgBouncerInTransactionMode) {
  auto pool = Pool(PgEnvironment::Get().pg().BouncerDsn(db_));
  ASSERT_NE(pool, nullptr);
  // 20,000 rows span many 256 KiB writes.
  std::vector<BackfillRow> rows;
  for (int64_t id = 1; id <= 20000; ++id) {
    rows.push_back(Row(id, "0.00000001", "1.5", "2024-01-01T00:00:00Z"));
  }
  TS_ASSERT_OK(Copy(*pool, rows));
  EXPECT_EQ(Query("SELECT count(*), sum(quantity), max(id) FROM trades"),
            (std::vector<std::string>{"20000|0.00020000|20000"}));
}

}  // namespace
}  // namespace tradestore::pg
