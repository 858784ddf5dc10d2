// A bounded queue between one producer thread and one consumer: at most
// `capacity` items wait, so memory stays flat whatever the table's size.
// Backfill (reader -> writer) and verify (each store -> the merge) use it.
#ifndef TRADESTORE_INTERNAL_CHUNK_QUEUE_H_
#define TRADESTORE_INTERNAL_CHUNK_QUEUE_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

#include "absl/status/status.h"

namespace tradestore::internal {

template <typename T>
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t capacity) : capacity_(capacity) {}

  // False when the consumer has stopped; the producer should end.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return stopped_ || queue_.size() < capacity_; });
    if (stopped_) return false;
    queue_.push_back(std::move(item));
    changed_.notify_all();
    return true;
  }

  // The end of the stream, with the producer's error if it failed.
  void Close(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    status_ = std::move(status);
    changed_.notify_all();
  }

  // The consumer gives up: a blocked Push returns false.
  void Stop() {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    changed_.notify_all();
  }

  // The next item; nullopt at the end (then status() tells how it ended).
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return closed_ || !queue_.empty(); });
    if (queue_.empty()) return std::nullopt;
    T item = std::move(queue_.front());
    queue_.pop_front();
    changed_.notify_all();
    return item;
  }

  absl::Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<T> queue_;
  bool closed_ = false;
  bool stopped_ = false;
  absl::Status status_;
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_CHUNK_QUEUE_H_
