// A bounded queue between one producer thread and one consumer: at most
// `capacity` items wait, so memory stays flat whatever the table's size.
// Verify uses it between each store's reader and the merge. It is an
// OrderedQueue whose one producer numbers the items in push order.
//
// Thread-safety: pushes must not overlap (one producer, or producers the
// caller serialises); any number of consumers.
#ifndef TRADESTORE_INTERNAL_CHUNK_QUEUE_H_
#define TRADESTORE_INTERNAL_CHUNK_QUEUE_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "tradestore/internal/ordered_queue.h"

namespace tradestore::internal {

template <typename T>
class ChunkQueue {
 public:
  explicit ChunkQueue(size_t capacity)
      : queue_(static_cast<int64_t>(capacity)) {}

  // False when the consumer has stopped; the producer should end.
  bool Push(T item) { return queue_.Push(next_++, std::move(item)); }

  // The end of the stream, with the producer's error if it failed.
  void Close(absl::Status status) { queue_.Close(std::move(status)); }

  // The consumer gives up: a blocked Push returns false.
  void Stop() { queue_.Stop(); }

  // The next item; nullopt at the end (then status() tells how it ended).
  std::optional<T> Pop() { return queue_.Pop(); }

  absl::Status status() { return queue_.status(); }

 private:
  OrderedQueue<T> queue_;
  int64_t next_ = 0;  // only the producer touches it
};

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_CHUNK_QUEUE_H_
