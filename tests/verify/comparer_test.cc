// verify's comparison rules, without a database: rows as the two stores
// would hand them over, and what the report says of them.
#include "tradestore/verify/comparer.h"

#include <gtest/gtest.h>

#include "testing/trades.h"
#include "tradestore/sqlite/legacy_row.h"

namespace tradestore::verify {
namespace {

Timestamp At(const char* iso) { return *Timestamp::Parse(iso); }

// A stored trade, changed at `updated`.
Trade Stored(int64_t id, const char* updated = "2024-01-01T00:00:00Z") {
  Trade t = testing::SampleTrade();
  t.id = id;
  t.timestamp = At("2024-01-01T00:00:00Z");
  t.created_at = t.timestamp;
  t.updated_at = At(updated);
  return t;
}

void Add(Chunk& chunk, const Trade& t, const std::string& extra = "") {
  const pg::TradeSink::Slot slot = chunk.Next(t.id);
  *slot.trade = t;
  *slot.extra = extra;
}

class ComparerTest : public ::testing::Test {
 protected:
  Comparer Make(bool keep_differences = false) {
    return Comparer({.max_samples = 10,
                     .min_age = std::chrono::seconds(5),
                     .started_at = At("2024-06-01T00:00:10Z"),
                     .keep_differences = keep_differences},
                    &report_);
  }
  VerifyReport report_;
};

TEST_F(ComparerTest, EqualRowsMatchAndMissingOnesAreNamed) {
  Comparer c = Make();
  Chunk s, p;
  Add(s, Stored(1));
  Add(p, Stored(1));
  Add(s, Stored(2));  // only in SQLite
  Add(p, Stored(3));  // only in Postgres
  c.Merge(s, p, /*final_pass=*/false);
  EXPECT_EQ(report_.rows_matching, 1);
  EXPECT_EQ(report_.missing_in_postgres_ids, std::vector<int64_t>{2});
  EXPECT_EQ(report_.missing_in_sqlite_ids, std::vector<int64_t>{3});
  EXPECT_FALSE(report_.clean());
}

TEST_F(ComparerTest, AMismatchNamesEachColumnThatDiffers) {
  Comparer c = Make(/*keep_differences=*/true);
  Chunk s, p;
  Trade t = Stored(5);
  Add(s, t, "{\"venue\": \"XNAS\"}");
  t.price = *Decimal::Parse("43000.50000001");
  Add(p, t, "{\"venue\": \"XLON\"}");
  c.Merge(s, p, false);
  ASSERT_EQ(report_.mismatches.size(), 1u);
  EXPECT_EQ(report_.mismatches[0].columns,
            (std::vector<std::string>{"price", "extra"}));
  EXPECT_EQ(report_.mismatches[0].sqlite_values[0], "43000.50000000");
  EXPECT_EQ(report_.mismatches[0].postgres_values[0], "43000.50000001");
  ASSERT_EQ(c.differences().size(), 1u);
  EXPECT_EQ(c.differences()[0].first, Comparer::Kind::kMismatched);
}

TEST_F(ComparerTest, LegacyColumnsCompareByValueNotSpelling) {
  Comparer c = Make();
  Chunk s, p;
  Add(s, Stored(1), "{\"a\": 1, \"b\": null}");
  Add(p, Stored(1), "{\"a\": 1}");  // a NULL legacy column equals no key
  c.Merge(s, p, false);
  EXPECT_EQ(report_.rows_matching, 1);
}

TEST_F(ComparerTest, QuarantinedRowsCountApartFromDifferences) {
  Comparer c = Make();
  c.set_quarantined({7, 8});
  Chunk s, p;
  s.AddUnreadable(7, "price: is NULL");  // the legacy rules refuse it
  Add(s, Stored(8));                     // Postgres refused it
  s.AddUnreadable(9, "side: \"X\" is not BUY or SELL");  // not quarantined
  c.Merge(s, p, false);
  EXPECT_EQ(report_.quarantined, 2);
  EXPECT_EQ(report_.missing_in_postgres, 1);
  EXPECT_EQ(report_.missing_in_postgres_reasons,
            std::vector<std::string>{"side: \"X\" is not BUY or SELL"});
  // The refused row's money is SQLite's alone, left out of both totals.
  EXPECT_FALSE(c.quarantined_money().sums().empty());
}

TEST_F(ComparerTest, WritesInFlightAreSetAsideThenReported) {
  Comparer c = Make();
  c.set_in_outbox({4});
  Chunk s, p;
  Add(s, Stored(4));                          // waits in the outbox
  Add(s, Stored(5, "2024-06-01T00:00:07Z"));  // changed 3 s ago
  Add(s, Stored(6, "2024-06-01T00:00:01Z"));  // 9 s ago: a difference
  c.Merge(s, p, /*final_pass=*/false);
  EXPECT_EQ(report_.missing_in_postgres_ids, std::vector<int64_t>{6});
  EXPECT_EQ(c.newest_in_flight(), At("2024-06-01T00:00:07Z"));
  const std::vector<int64_t> again = c.TakeInFlight();
  EXPECT_EQ(again, (std::vector<int64_t>{4, 5}));
  EXPECT_TRUE(c.TakeInFlight().empty());
  // Read again: still missing now counts.
  Chunk s2, p2;
  Add(s2, Stored(4));
  Add(s2, Stored(5, "2024-06-01T00:00:07Z"));
  Add(p2, Stored(5, "2024-06-01T00:00:07Z"));
  c.Merge(s2, p2, /*final_pass=*/true);
  EXPECT_EQ(report_.missing_in_postgres, 2);
  EXPECT_EQ(report_.rows_matching, 1);
}

TEST_F(ComparerTest, BytesEqualMatchAndOthersAreDecodedAndCompared) {
  Comparer c = Make();
  EncodedChunk sqlite;
  sqlite.AddTrade(1, Stored(1), "");
  sqlite.AddTrade(2, Stored(2), "");
  // Postgres sends row 1 as stored, row 2 with another status.
  std::vector<Trade> pg_trades = {Stored(1), Stored(2)};
  pg_trades[1].status = TradeStatus::kCancelled;
  pg::RawRows postgres;
  for (const Trade& t : pg_trades) {
    pg::AppendTradeRow(&postgres.bytes, t, "");
    postgres.ends.push_back(postgres.bytes.size());
    postgres.ids.push_back(t.id);
  }
  MoneyTally sqlite_unmatched, pg_unmatched;
  c.MergeBytes(sqlite, postgres, &sqlite_unmatched, &pg_unmatched);
  EXPECT_EQ(report_.rows_matching, 1);
  ASSERT_EQ(report_.mismatches.size(), 1u);
  EXPECT_EQ(report_.mismatches[0].id, 2);
  EXPECT_EQ(report_.mismatches[0].columns, std::vector<std::string>{"status"});
  // The differing row's money is counted apart on both sides.
  EXPECT_FALSE(sqlite_unmatched.sums().empty());
  EXPECT_FALSE(pg_unmatched.sums().empty());
}

}  // namespace
}  // namespace tradestore::verify
