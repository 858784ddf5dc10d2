// The dual-write outbox of the SQLite store on its own: entries written in
// the trade's own transaction, read in seq order with each trade's row
// once, acknowledged by seq, and its status (depth, oldest, last seq), and
// the relay's progress recorded with each ack.
#include <gtest/gtest.h>

#include "testing/sqlite_file.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/sqlite/store_facts.h"

namespace tradestore {
namespace {

class SqliteOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteTradeStore::Open(
        {.path = dir_.File("store.db"), .clock = &clock_});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void Reopen() {
    store_.reset();
    SetUp();
  }

  // Inserts a keyed trade with an outbox entry; returns its id and seq.
  std::pair<int64_t, int64_t> InsertEnqueued(const std::string& key) {
    int64_t seq = -1;
    auto r = store_->InsertEnqueued(testing::KeyedTrade(key), true, &seq);
    EXPECT_TRUE(r.ok()) << r.status();
    return {r.ok() ? r->trade.id : 0, seq};
  }

  testing::TempDir dir_;
  SimulatedClock clock_{*Timestamp::Parse("2026-12-04T10:00:00Z")};
  std::unique_ptr<SqliteTradeStore> store_;
};

TEST_F(SqliteOutboxTest, EntriesComeInSeqOrderWithEachTradesRowOnce) {
  const auto [a, seq_a] = InsertEnqueued("a");
  clock_.Advance(std::chrono::seconds(1));
  const auto [b, seq_b] = InsertEnqueued("b");
  int64_t seq_update = -1;
  ASSERT_TRUE(store_
                  ->UpdateStatusEnqueued(a, TradeStatus::kFilled, std::nullopt,
                                         true, &seq_update)
                  .ok());
  EXPECT_EQ(seq_a, 1);
  EXPECT_EQ(seq_b, 2);
  EXPECT_EQ(seq_update, 3);

  auto batch = store_->ReadOutbox(10);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->entries.size(), 3u);
  EXPECT_EQ(batch->entries[0].trade_id, a);
  EXPECT_EQ(batch->entries[0].version, 1);
  EXPECT_EQ(batch->entries[1].trade_id, b);
  EXPECT_EQ(batch->entries[2].trade_id, a);
  EXPECT_EQ(batch->entries[2].version, 2);
  EXPECT_EQ(batch->last_seq, 3);
  // Trade a's current row once, whatever the entries naming it.
  ASSERT_EQ(batch->rows.size(), 2u);
  EXPECT_EQ(batch->rows[0].id, a);
  EXPECT_EQ(batch->rows[1].id, b);

  auto first = store_->ReadOutbox(1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->entries.size(), 1u);
  EXPECT_EQ(first->last_seq, 1);
  auto after = store_->ReadOutbox(10, /*after_seq=*/2);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->entries.size(), 1u);
  EXPECT_EQ(after->entries[0].seq, 3);
}

TEST_F(SqliteOutboxTest, AcknowledgedEntriesGoAndTheSeqNeverRepeats) {
  const Timestamp first_at = clock_.Now();
  InsertEnqueued("a");
  clock_.Advance(std::chrono::seconds(5));
  InsertEnqueued("b");
  auto status = store_->GetOutboxStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->entries, 2);
  EXPECT_EQ(status->oldest_seq, 1);
  EXPECT_EQ(status->last_seq, 2);
  ASSERT_TRUE(status->oldest.has_value());
  EXPECT_EQ(status->oldest->unix_micros(), first_at.unix_micros());

  TS_ASSERT_OK(store_->AckOutbox(1, {.at = clock_.Now()}));
  status = store_->GetOutboxStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->entries, 1);
  EXPECT_EQ(status->oldest_seq, 2);

  TS_ASSERT_OK(store_->AckOutbox(2, {.at = clock_.Now()}));
  status = store_->GetOutboxStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->entries, 0);
  EXPECT_FALSE(status->oldest.has_value());
  EXPECT_EQ(status->last_seq, 2);
  // After an empty outbox the next entry still gets a new seq: the relay
  // and verify tell entries apart by it.
  EXPECT_EQ(InsertEnqueued("c").second, 3);
}

TEST_F(SqliteOutboxTest, AnEmptiedOutboxGivesNoSeqTwiceAcrossAReopen) {
  InsertEnqueued("a");
  InsertEnqueued("b");
  TS_ASSERT_OK(store_->AckOutbox(2, {.at = clock_.Now()}));
  // A late ack of less must not lower the floor.
  TS_ASSERT_OK(store_->AckOutbox(1, {.at = clock_.Now()}));
  Reopen();
  auto status = store_->GetOutboxStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->entries, 0);
  EXPECT_EQ(status->last_seq, 2);
  EXPECT_EQ(InsertEnqueued("c").second, 3);
  EXPECT_EQ(InsertEnqueued("d").second, 4);
  // Entries still waiting count as well as the acked seq.
  TS_ASSERT_OK(store_->AckOutbox(3, {.at = clock_.Now()}));
  EXPECT_EQ(InsertEnqueued("e").second, 5);
  // The seq costs no sqlite_sequence write.
  store_.reset();
  testing::SqliteFile file(dir_.File("store.db"));
  EXPECT_EQ(file.Query("SELECT count(*) FROM sqlite_master WHERE name = "
                       "'sqlite_sequence'"),
            "0");
}

TEST_F(SqliteOutboxTest, AnOlderFilesAutoincrementOutboxKeepsCounting) {
  store_.reset();
  {
    testing::SqliteFile file(dir_.File("store.db"));
    file.Exec(
        "DROP TABLE tradestore_outbox; CREATE TABLE tradestore_outbox (seq "
        "INTEGER PRIMARY KEY AUTOINCREMENT, trade_id INTEGER NOT NULL, "
        "version INTEGER NOT NULL, enqueued_at TEXT NOT NULL); INSERT INTO "
        "tradestore_outbox VALUES (7, 1, 1, '2026-12-04T10:00:00Z'); DELETE "
        "FROM tradestore_outbox");
  }
  SetUp();
  auto status = store_->GetOutboxStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->entries, 0);
  EXPECT_EQ(status->last_seq, 7);
  EXPECT_EQ(InsertEnqueued("a").second, 8);
  TS_ASSERT_OK(store_->AckOutbox(8, {.at = clock_.Now()}));
  Reopen();
  EXPECT_EQ(InsertEnqueued("b").second, 9);
}

TEST_F(SqliteOutboxTest, EachAckRecordsTheRelaysProgressForStatus) {
  auto facts = ReadSqliteStoreFacts(dir_.File("store.db"));
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_FALSE(facts->relay.has_value());

  InsertEnqueued("a");
  InsertEnqueued("b");
  InsertEnqueued("c");
  TS_ASSERT_OK(store_->AckOutbox(
      2, {.at = clock_.Now(), .rate_per_s = 812.5, .lag_ms = 40}));
  clock_.Advance(std::chrono::seconds(3));
  // An ack of nothing new adds nothing to the total.
  TS_ASSERT_OK(store_->AckOutbox(2, {.at = clock_.Now(), .rate_per_s = 1}));
  TS_ASSERT_OK(store_->AckOutbox(
      3, {.at = clock_.Now(), .rate_per_s = 0.25, .lag_ms = 7}));

  facts = ReadSqliteStoreFacts(dir_.File("store.db"));
  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_TRUE(facts->relay.has_value());
  EXPECT_EQ(facts->relay->acked_total, 3);
  EXPECT_EQ(facts->relay->last.at.unix_micros(), clock_.Now().unix_micros());
  EXPECT_DOUBLE_EQ(facts->relay->last.rate_per_s, 0.25);
  EXPECT_EQ(facts->relay->last.lag_ms, 7);
}

TEST_F(SqliteOutboxTest, NoEntryWithoutAWriteOrWhenTheWriteFails) {
  const auto [a, seq_a] = InsertEnqueued("a");
  ASSERT_EQ(seq_a, 1);
  // The same key again returns the trade it has: nothing written.
  int64_t seq = -1;
  auto again = store_->InsertEnqueued(testing::KeyedTrade("a"), true, &seq);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(seq, 0);
  // Outside the dual-write phases: the trade, no entry.
  seq = -1;
  ASSERT_TRUE(
      store_->InsertEnqueued(testing::KeyedTrade("b"), false, &seq).ok());
  EXPECT_EQ(seq, 0);
  // A stale version is refused, and its entry with it.
  seq = -1;
  auto stale =
      store_->UpdateStatusEnqueued(a, TradeStatus::kFilled, 7, true, &seq);
  TS_EXPECT_CODE(stale, absl::StatusCode::kAborted);
  auto status = store_->GetOutboxStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->entries, 1);
  EXPECT_EQ(status->last_seq, 1);
}

}  // namespace
}  // namespace tradestore
