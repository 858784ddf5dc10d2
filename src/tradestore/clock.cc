#include "tradestore/clock.h"

#include <thread>

namespace tradestore {
namespace {

class RealClock : public Clock {
 public:
  Timestamp Now() override {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return *Timestamp::FromUnixMicros(micros.count());
  }
  std::chrono::steady_clock::time_point Monotonic() override {
    return std::chrono::steady_clock::now();
  }
  void SleepFor(std::chrono::microseconds d) override {
    std::this_thread::sleep_for(d);
  }
};

}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();
  return clock;
}

Timestamp SimulatedClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

std::chrono::steady_clock::time_point SimulatedClock::Monotonic() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::chrono::steady_clock::time_point(elapsed_);
}

void SimulatedClock::Advance(std::chrono::microseconds d) {
  std::lock_guard<std::mutex> lock(mu_);
  elapsed_ += d;
  now_ = *Timestamp::FromUnixMicros(now_.unix_micros() + d.count());
}

std::chrono::microseconds SimulatedClock::elapsed() {
  std::lock_guard<std::mutex> lock(mu_);
  return elapsed_;
}

}  // namespace tradestore
