// Backoff: exponential delays with jitter, a cap and an overall deadline, the
// reconnect schedule of the platform plan done right. Not thread-safe: one
// Backoff per retry loop.
#ifndef TRADESTORE_INTERNAL_BACKOFF_H_
#define TRADESTORE_INTERNAL_BACKOFF_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

#include "tradestore/backoff_options.h"
#include "tradestore/clock.h"

namespace tradestore {

class Backoff {
 public:
  // `clock` must outlive the Backoff, and so must `cancelled` when given:
  // once it is true, Wait() gives up (the owner is shutting down).
  Backoff(const BackoffOptions& options, Clock* clock,
          const std::atomic<bool>* cancelled = nullptr);

  // Waits before the next attempt and returns true, or returns false when
  // the deadline would be passed (without waiting) or when cancelled.
  bool Wait();

  // The delay the next Wait() would sleep (without jitter applied yet);
  // equal jitter keeps each delay in [d/2, d].
  std::chrono::microseconds NextDelay();

  int attempts() const { return attempts_; }
  // What the last Wait() slept (zero before the first).
  std::chrono::microseconds last_delay() const { return last_delay_; }
  std::chrono::microseconds elapsed() const;

 private:
  BackoffOptions options_;
  Clock* clock_;
  const std::atomic<bool>* cancelled_;
  std::chrono::steady_clock::time_point start_;
  int attempts_ = 0;
  std::chrono::microseconds last_delay_{0};
  std::mt19937_64 rng_;
};

}  // namespace tradestore

#endif  // TRADESTORE_INTERNAL_BACKOFF_H_
