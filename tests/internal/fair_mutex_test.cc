#include "tradestore/internal/fair_mutex.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace tradestore::internal {
namespace {

void WaitForWaiters(FairMutex& mu, uint64_t n) {
  while (mu.waiting() < n) std::this_thread::yield();
}

TEST(FairMutexTest, WaitersGetTheLockInTheOrderTheyCame) {
  FairMutex mu;
  std::mutex order_mu;
  std::vector<int> order;
  mu.lock();
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      std::lock_guard<FairMutex> lock(mu);
      std::lock_guard<std::mutex> o(order_mu);
      order.push_back(i);
    });
    WaitForWaiters(mu, i + 1);  // i queued before i + 1 starts
  }
  mu.unlock();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(mu.waiting(), 0u);
}

}  // namespace
}  // namespace tradestore::internal
