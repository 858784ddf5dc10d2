#include "tradestore/internal/backoff.h"

#include <algorithm>

namespace tradestore {

Backoff::Backoff(const BackoffOptions& options, Clock* clock)
    : options_(options),
      clock_(clock),
      start_(clock->Monotonic()),
      rng_(std::random_device{}()) {}

std::chrono::microseconds Backoff::NextDelay() {
  const int shift = std::min(attempts_, 30);
  const auto uncapped =
      std::chrono::microseconds(options_.initial_delay) * (int64_t{1} << shift);
  const auto capped =
      std::min<std::chrono::microseconds>(uncapped, options_.max_delay);
  // Equal jitter: half fixed, half random, so clients that failed together
  // do not retry together yet never hammer with a zero delay.
  std::uniform_int_distribution<int64_t> half(0, capped.count() / 2);
  return std::chrono::microseconds(capped.count() - half(rng_));
}

bool Backoff::Wait() {
  const auto delay = NextDelay();
  if (elapsed() + delay > options_.deadline) return false;
  ++attempts_;
  clock_->SleepFor(delay);
  return true;
}

std::chrono::microseconds Backoff::elapsed() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
      clock_->Monotonic() - start_);
}

}  // namespace tradestore
