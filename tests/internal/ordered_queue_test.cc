#include "tradestore/internal/ordered_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace tradestore::internal {
namespace {

TEST(OrderedQueueTest, HandsItemsOutInSequenceOrderWhoeverPushesFirst) {
  OrderedQueue<int> queue(/*window=*/4);
  ASSERT_TRUE(queue.Push(2, 20));
  ASSERT_TRUE(queue.Push(1, 10));
  std::thread late([&] { queue.Push(0, 0); });
  EXPECT_EQ(queue.Pop(), 0);  // waits for the slow producer's item
  late.join();
  EXPECT_EQ(queue.Pop(), 10);
  EXPECT_EQ(queue.Pop(), 20);
  queue.Close(absl::OkStatus());
  EXPECT_EQ(queue.Pop(), std::nullopt);
  EXPECT_TRUE(queue.status().ok());
}

TEST(OrderedQueueTest, AFarAheadPushWaitsButTheNextOneIsAlwaysAdmitted) {
  OrderedQueue<int> queue(/*window=*/2);
  ASSERT_TRUE(queue.Push(1, 1));
  std::atomic<bool> pushed{false};
  std::thread ahead([&] {
    queue.Push(2, 2);  // 2 >= next (0) + window (2): waits
    pushed = true;
  });
  ASSERT_TRUE(queue.Push(0, 0));  // the next one, although two wait ahead
  EXPECT_FALSE(pushed);           // still waiting: nothing was taken yet
  EXPECT_EQ(queue.Pop(), 0);
  ahead.join();
  EXPECT_TRUE(pushed);
  EXPECT_EQ(queue.Pop(), 1);
  EXPECT_EQ(queue.Pop(), 2);
}

TEST(OrderedQueueTest, AFailedProducerEndsEveryoneWithItsError) {
  OrderedQueue<int> queue(/*window=*/1);
  ASSERT_TRUE(queue.Push(0, 0));
  std::thread blocked([&] { EXPECT_FALSE(queue.Push(1, 1)); });
  queue.Close(absl::DataLossError("batch 1 unreadable"));
  queue.Close(absl::OkStatus());  // a later, clean close keeps the error
  blocked.join();
  EXPECT_EQ(queue.Pop(), 0);
  EXPECT_EQ(queue.Pop(), std::nullopt);  // item 1 never came
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kDataLoss);
}

TEST(OrderedQueueTest, ManyProducersAndConsumersLoseAndReorderNothing) {
  OrderedQueue<int64_t> queue(/*window=*/3);
  constexpr int64_t kItems = 20000;
  std::atomic<int64_t> next_seq{0};
  auto produce = [&] {
    for (int64_t seq; (seq = next_seq++) < kItems;) queue.Push(seq, seq);
  };
  std::vector<int64_t> got;
  std::mutex mu;
  auto consume = [&] {
    while (auto item = queue.Pop()) {
      std::lock_guard<std::mutex> lock(mu);
      got.push_back(*item);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) threads.emplace_back(produce);
  threads.emplace_back(consume);
  for (int i = 0; i < 3; ++i) threads[i].join();
  queue.Close(absl::OkStatus());
  threads.back().join();
  ASSERT_EQ(got.size(), static_cast<size_t>(kItems));
  for (int64_t i = 0; i < kItems; ++i) ASSERT_EQ(got[i], i);
}

TEST(OrderedQueueTest, RunProducersStopsEveryoneAtTheFirstFailure) {
  OrderedQueue<int64_t> queue(/*window=*/2);
  std::atomic<int64_t> next_seq{0};
  std::thread consumer([&] {
    while (queue.Pop()) {
    }
  });
  // Producer 1 fails on item 5: producer 0, blocked on the window behind
  // it, ends too, and the consumer is not left waiting for item 5.
  const absl::Status status = RunProducers(2, queue, [&](int i) {
    for (int64_t seq; (seq = next_seq++) < 1000;) {
      if (i == 1 && seq >= 5) return absl::DataLossError("unreadable");
      if (!queue.Push(seq, seq)) return absl::OkStatus();
    }
    return absl::OkStatus();
  });
  consumer.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(queue.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace tradestore::internal
