// Clock: the source of "now" and of waiting, passed in options so tests can
// run time forward instead of sleeping (LevelDB's Env idea, for time only).
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef TRADESTORE_CLOCK_H_
#define TRADESTORE_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <mutex>

#include "tradestore/timestamp.h"

namespace tradestore {

class Clock {
 public:
  virtual ~Clock() = default;
  // The current UTC time, microsecond precision.
  virtual Timestamp Now() = 0;
  // A monotonic reading for deadlines and latencies.
  virtual std::chrono::steady_clock::time_point Monotonic() = 0;
  virtual void SleepFor(std::chrono::microseconds d) = 0;

  // The process-wide real clock; never null, never deleted.
  static Clock* Real();
};

// A clock that only moves when told to: SleepFor advances it at once.
class SimulatedClock : public Clock {
 public:
  explicit SimulatedClock(Timestamp start) : now_(start) {}
  Timestamp Now() override;
  std::chrono::steady_clock::time_point Monotonic() override;
  void SleepFor(std::chrono::microseconds d) override { Advance(d); }
  void Advance(std::chrono::microseconds d);
  // Total time slept or advanced so far.
  std::chrono::microseconds elapsed();

 private:
  // A plain std::mutex, not annotated: an installed header includes
  // nothing of internal/, and absl::Mutex from Debian's (uninstrumented)
  // Abseil looks like no lock at all to ThreadSanitizer.
  std::mutex mu_;  // guards now_ and elapsed_
  Timestamp now_;
  std::chrono::microseconds elapsed_{0};
};

}  // namespace tradestore

#endif  // TRADESTORE_CLOCK_H_
