// The log of a command: every line written to a LogStream goes out as one
// record, with its time and level, as text ("2026-12-03T07:20:01.123456Z
// verify: 100/200 rows") or as a JSON object per line, for a log shipper.
// Lines below the threshold (--quiet: warnings and errors only; --verbose:
// debug lines too) are dropped.
//
// Thread-safety: a line is written by one thread at a time (the commands'
// progress and retries come from their calling thread, or under a lock).
#ifndef TRADESTORE_INTERNAL_LOG_STREAM_H_
#define TRADESTORE_INTERNAL_LOG_STREAM_H_

#include <ostream>
#include <streambuf>
#include <string>

#include "absl/strings/string_view.h"
#include "tradestore/clock.h"

namespace tradestore {

enum class LogLevel { kDebug, kInfo, kWarning, kError };
enum class LogFormat { kText, kJson };

absl::string_view LogLevelName(LogLevel level);  // "debug", "info", ...

struct LogOptions {
  LogFormat format = LogFormat::kText;
  LogLevel threshold = LogLevel::kInfo;
  std::string command;     // "verify": a field of each JSON record
  Clock* clock = nullptr;  // null = Clock::Real()
};

// One record as written: text or a JSON line, ending in '\n'.
std::string LogRecord(const LogOptions& options, Timestamp time, LogLevel level,
                      absl::string_view message);

class LogStream : public std::ostream {
 public:
  LogStream(std::ostream& sink, LogOptions options);
  ~LogStream() override;

  // The level of the lines written from now on (info at first).
  void SetLevel(LogLevel level) { buf_.level = level; }
  bool Enabled(LogLevel level) const { return level >= buf_.options.threshold; }

 private:
  struct Buf : std::streambuf {
    Buf(std::ostream& sink, LogOptions options);
    int overflow(int c) override;
    int sync() override;
    void Emit();

    std::ostream& sink;
    const LogOptions options;
    LogLevel level = LogLevel::kInfo;
    std::string line;
  };
  Buf buf_;
};

}  // namespace tradestore

#endif  // TRADESTORE_INTERNAL_LOG_STREAM_H_
