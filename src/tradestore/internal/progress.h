// Progress of long work: on a terminal one line redrawn in place with the
// count, the rate and the ETA (h:mm:ss); elsewhere (cron, systemd, CI) a plain
// log line every `interval`.
//
// Thread-safety: call from one thread.
#ifndef TRADESTORE_INTERNAL_PROGRESS_H_
#define TRADESTORE_INTERNAL_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

#include "tradestore/clock.h"

namespace tradestore {

class Progress {
 public:
  // `total` may be 0 when unknown (no percentage or ETA then).
  // `columns`: the terminal's width (0: ask standard error's terminal).
  Progress(std::ostream& out, std::string what, bool tty, int64_t total,
           Clock* clock,
           std::chrono::milliseconds interval = std::chrono::seconds(5),
           int columns = 0);

  void Update(int64_t done);
  // The last line, always printed (and the terminal line ended).
  void Finish(int64_t done);

  // The rate so far, per second.
  double rate(int64_t done) const;
  // What is counted ("rows" unless set).
  void set_unit(std::string unit) { unit_ = std::move(unit); }

 private:
  std::string Line(int64_t done) const;

  std::ostream& out_;
  const std::string what_;
  std::string unit_ = "rows";
  const bool tty_;
  const int columns_;
  const int64_t total_;
  Clock* clock_;
  const std::chrono::milliseconds interval_;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
};

// True when standard error is a terminal.
bool StderrIsTerminal();

// A duration as a clock reads it: "0:01:05", "12:00:00".
std::string HoursMinutesSeconds(double seconds);

}  // namespace tradestore

#endif  // TRADESTORE_INTERNAL_PROGRESS_H_
