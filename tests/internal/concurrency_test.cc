// The small concurrency primitives the scans and the backfill are built
// from: Turnstile, ChunkQueue, Recycler, RunSideBySide and RwLock. Each
// test waits for events (a thread blocked, a value set), never for time.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "tradestore/internal/chunk_queue.h"
#include "tradestore/internal/recycler.h"
#include "tradestore/internal/rw_lock.h"
#include "tradestore/internal/side_by_side.h"
#include "tradestore/internal/turnstile.h"

namespace tradestore::internal {
namespace {

TEST(TurnstileTest, WorkFinishesInTheOrderItWasHandedOut) {
  Turnstile turn;
  std::vector<int> finished;
  std::mutex mu;
  // Four lanes take their items in reverse; they still finish in order.
  RunSideBySide(4, [&](int lane) {
    const int seq = 3 - lane;
    EXPECT_TRUE(turn.Wait(seq).ok());
    {
      std::lock_guard<std::mutex> lock(mu);
      finished.push_back(seq);
    }
    turn.Pass(seq);
  });
  EXPECT_EQ(finished, (std::vector<int>{0, 1, 2, 3}));
}

TEST(TurnstileTest, AnAbortReleasesEveryWaiterWithCancelled) {
  Turnstile turn;
  absl::Status later;
  std::thread waiter([&] { later = turn.Wait(5); });  // never its turn
  turn.Abort();
  waiter.join();
  EXPECT_EQ(later.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(turn.Wait(0).code(), absl::StatusCode::kCancelled);
}

TEST(ChunkQueueTest, AFullQueueHoldsAProducerUntilTheConsumerStops) {
  ChunkQueue<std::string> queue(2);
  std::atomic<int> pushed{0};
  std::atomic<bool> refused{false};
  std::thread producer([&] {
    for (int i = 0; i < 4; ++i) {
      if (!queue.Push(std::to_string(i))) {
        refused = true;
        return;
      }
      ++pushed;
    }
  });
  // Two fit; the third can only wait, since nothing is taken.
  while (pushed.load() < 2) std::this_thread::yield();
  queue.Stop();  // the consumer gives up: the waiting Push ends
  producer.join();
  EXPECT_EQ(pushed.load(), 2);
  EXPECT_TRUE(refused.load());
}

TEST(ChunkQueueTest, TheEndCarriesTheProducersError) {
  ChunkQueue<int> queue(4);
  ASSERT_TRUE(queue.Push(7));
  queue.Close(absl::DataLossError("chunk 2 unreadable"));
  EXPECT_EQ(queue.Pop(), 7);
  EXPECT_EQ(queue.Pop(), std::nullopt);
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kDataLoss);
}

TEST(RecyclerTest, GivesBackWhatItKeptAndKeepsNoMoreThanAsked) {
  Recycler<std::vector<int>> spare(1);
  std::vector<int> grown;
  grown.reserve(1000);
  const int* memory = grown.data();
  spare.Give(std::move(grown));
  spare.Give(std::vector<int>(5));  // past `keep`: freed
  std::vector<int> again = spare.Take();
  EXPECT_EQ(again.data(), memory);  // the same buffer, its room kept
  EXPECT_GE(again.capacity(), 1000u);
  EXPECT_EQ(spare.Take().capacity(), 0u);  // none left: a new one
}

TEST(RwLockTest, AWaitingWriterStopsNewReaders) {
  RwLock lock;
  lock.lock_shared();  // a reader in
  std::atomic<bool> written{false};
  std::thread writer([&] {
    std::unique_lock<RwLock> w(lock);
    written = true;
  });
  // Once the writer waits, a new reader is refused rather than let in
  // ahead of it. try_lock_shared fails as soon as the writer queues.
  while (lock.try_lock_shared()) {
    lock.unlock_shared();
    std::this_thread::yield();
  }
  EXPECT_FALSE(written.load());
  lock.unlock_shared();  // the first reader leaves: the writer goes
  writer.join();
  EXPECT_TRUE(written.load());
  std::shared_lock<RwLock> reader(lock);  // and readers again after it
}

}  // namespace
}  // namespace tradestore::internal
