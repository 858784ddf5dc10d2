#include "tradestore/internal/backoff.h"

#include <algorithm>

namespace tradestore {

Backoff::Backoff(const BackoffOptions& options, Clock* clock,
                 const std::atomic<bool>* cancelled)
    : options_(options),
      clock_(clock),
      cancelled_(cancelled),
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
  const auto is_cancelled = [this] {
    return cancelled_ != nullptr && cancelled_->load();
  };
  if (is_cancelled()) return false;
  const auto delay = NextDelay();
  if (elapsed() + delay > options_.deadline) return false;
  ++attempts_;
  last_delay_ = delay;
  // In slices, so that a cancellation is noticed within one.
  constexpr std::chrono::microseconds kSlice = std::chrono::milliseconds(50);
  for (auto left = delay; left.count() > 0; left -= kSlice) {
    clock_->SleepFor(std::min(left, kSlice));
    if (is_cancelled()) return false;
  }
  return true;
}

std::chrono::microseconds Backoff::elapsed() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
      clock_->Monotonic() - start_);
}

}  // namespace tradestore
