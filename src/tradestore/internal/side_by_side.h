// Runs the same work on several threads at once, one of them the caller's:
// the backfill's writer lanes and index builds, and the readers of
// RunProducers.
#ifndef TRADESTORE_INTERNAL_SIDE_BY_SIDE_H_
#define TRADESTORE_INTERNAL_SIDE_BY_SIDE_H_

#include <thread>
#include <vector>

namespace tradestore::internal {

// Runs work(0) ... work(count - 1) side by side, work(0) on the calling
// thread, and returns when all have.
template <typename Work>
void RunSideBySide(int count, const Work& work) {
  std::vector<std::thread> others;
  for (int i = 1; i < count; ++i) others.emplace_back([&work, i] { work(i); });
  work(0);
  for (std::thread& t : others) t.join();
}

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_SIDE_BY_SIDE_H_
