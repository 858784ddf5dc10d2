// A full verify converts each SQLite row into one reused Trade and encodes
// it straight into the chunk it compares. Over the generators' stores, and
// one whose rows take turns having each optional field, that must give
// byte for byte what converting every row afresh gives: a field one row
// leaves unset must never carry over from the row before.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/sqlite_file.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/chunk.h"
#include "tradestore/verify/extra_text.h"

namespace tradestore::verify {
namespace {

constexpr int kBatch = 700;  // several chunks, so a scratch crosses them

// Legacy columns on some rows, NULL on others; a row of every storage class.
void AddExtraColumns(const std::string& path) {
  testing::SqliteFile(path).Exec(
      "ALTER TABLE trades ADD COLUMN venue TEXT;"
      "ALTER TABLE trades ADD COLUMN lot REAL;"
      "UPDATE trades SET venue = CASE id % 3 WHEN 0 THEN 'XLON' "
      "WHEN 1 THEN 'caf\xc3\xa9' END, "
      "lot = CASE WHEN id % 4 = 0 THEN id / 7.0 END");
}

// Trades as the new code writes them, taking turns with a fee, a key and a
// later version, so each optional field is set on one row and not the next.
void WriteNewStore(const std::string& path, int rows) {
  auto store = SqliteTradeStore::Open({.path = path, .sync_full = false});
  TS_ASSERT_OK(store.status());
  for (int i = 0; i < rows; ++i) {
    Trade t = testing::SampleTrade();
    t.symbol = i % 5 == 0 ? "ETH-USD" : "BTC-USD";
    t.side = i % 2 == 0 ? Side::kBuy : Side::kSell;
    if (i % 2 == 1) t.fee = *Decimal::Parse(i % 4 == 1 ? "-0.5" : "1.25");
    if (i % 3 == 1) t.client_order_id = "order-" + std::to_string(i);
    auto stored = (*store)->Insert(t);
    TS_ASSERT_OK(stored);
    if (i % 7 == 3) {
      TS_ASSERT_OK(
          (*store)->UpdateStatus(stored->trade.id, TradeStatus::kFilled));
    }
  }
}

struct Encoded {
  EncodedChunk chunk;
  MoneyTally money;
};

void ExpectSameTallies(const MoneyTally& a, const MoneyTally& b) {
  ASSERT_EQ(a.sums().size(), b.sums().size());
  for (auto ia = a.sums().begin(), ib = b.sums().begin(); ia != a.sums().end();
       ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(ia->second.count, ib->second.count);
    EXPECT_TRUE(ia->second.quantity == ib->second.quantity);
    EXPECT_TRUE(ia->second.notional == ib->second.notional);
    EXPECT_EQ(ia->second.overflow, ib->second.overflow);
  }
}

// Every row of the store, read chunk by chunk as the full scan reads it:
// `direct`, through EncodedChunk::Add with one scratch for the whole scan;
// `afresh`, each row converted into a new Trade and encoded on its own.
void ExpectDirectIsAfresh(const std::string& path, int64_t expect_unreadable) {
  auto store = SqliteTradeStore::Open({.path = path});
  TS_ASSERT_OK(store.status());
  Encoded direct, afresh;
  Trade scratch;
  int64_t rows = 0, unreadable = 0;
  for (int64_t after = 0;;) {
    auto read = (*store)->ScanStoredRows(after, kBatch);
    TS_ASSERT_OK(read.status());
    if (read->empty()) break;
    after = read->back().id;
    for (const StoredRow& row : *read) {
      direct.chunk.Add(row, scratch, &direct.money);
      ++rows;
      absl::StatusOr<Trade> trade = ConvertStoredRow(row, nullptr);
      if (!trade.ok()) {
        ++unreadable;
        afresh.chunk.AddUnreadable(row.id, trade.status().message());
        continue;
      }
      TallyTrade(*trade, &afresh.money);
      afresh.chunk.AddTrade(row.id, *trade,
                            row.extra.empty() ? "" : ExtraJsonbText(row));
    }
  }
  ASSERT_GT(rows, 0);
  EXPECT_EQ(unreadable, expect_unreadable);
  ASSERT_EQ(direct.chunk.rows.size(), afresh.chunk.rows.size());
  for (size_t i = 0; i < direct.chunk.rows.size(); ++i) {
    const Chunk::Row& d = direct.chunk.rows[i];
    const Chunk::Row& a = afresh.chunk.rows[i];
    ASSERT_EQ(d.id, a.id);
    ASSERT_EQ(d.trade, a.trade) << "id " << d.id;
    ASSERT_EQ(d.reason, a.reason) << "id " << d.id;
    if (d.trade >= 0) {
      ASSERT_EQ(direct.chunk.EncodedOf(d), afresh.chunk.EncodedOf(a))
          << "id " << d.id;
    }
  }
  EXPECT_EQ(direct.chunk.reasons, afresh.chunk.reasons);
  EXPECT_EQ(direct.chunk.encoded, afresh.chunk.encoded);
  ExpectSameTallies(direct.money, afresh.money);
}

class EncodedChunkTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(EncodedChunkTest, RealDecimalStoreWithBadRows) {
  const std::string path = dir_.File("real.db");
  TS_ASSERT_OK(
      GenerateLegacyStore(
          {.path = path, .rows = 6000, .bad_every = 97, .real_decimals = true})
          .status());
  ExpectDirectIsAfresh(path, 6000 / 97);
}

TEST_F(EncodedChunkTest, MixedStoreWithBadRowsAndLegacyColumns) {
  const std::string path = dir_.File("mixed.db");
  TS_ASSERT_OK(GenerateLegacyStore(
                   {.path = path, .rows = 6000, .bad_every = 89, .seed = 7})
                   .status());
  AddExtraColumns(path);
  ExpectDirectIsAfresh(path, 6000 / 89);
}

TEST_F(EncodedChunkTest, NewStoreWhoseRowsTakeTurnsWithEachField) {
  const std::string path = dir_.File("new.db");
  WriteNewStore(path, 3000);
  AddExtraColumns(path);
  // A bad row among good ones: the next good row starts from its leftovers.
  testing::SqliteFile(path).Exec(
      "UPDATE trades SET price = 'abc' WHERE id % 101 = 0");
  ExpectDirectIsAfresh(path, 3000 / 101);
}

}  // namespace
}  // namespace tradestore::verify
