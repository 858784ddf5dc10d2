#include "tradestore/internal/log_stream.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"

namespace tradestore {
namespace {

// A JSON string; bytes that are not UTF-8 (a server's message may have
// some) become U+FFFD rather than an invalid line.
std::string JsonString(absl::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

std::string LogRecord(const LogOptions& options, Timestamp time, LogLevel level,
                      absl::string_view message) {
  if (options.format == LogFormat::kJson) {
    return absl::StrCat("{\"time\":\"", time.ToIso8601(), "\",\"level\":\"",
                        LogLevelName(level),
                        "\",\"command\":", JsonString(options.command),
                        ",\"message\":", JsonString(message), "}\n");
  }
  const bool plain = level == LogLevel::kInfo;
  // A message of several lines (libpq's have a hint on the next) keeps
  // them indented under its record.
  return absl::StrCat(
      time.ToIso8601(), " ",
      plain ? "" : absl::StrCat(LogLevelName(level), ": "),
      absl::StrReplaceAll(absl::StripTrailingAsciiWhitespace(message),
                          {{"\n", "\n    "}}),
      "\n");
}

LogStream::Buf::Buf(std::ostream& sink, LogOptions options)
    : sink(sink), options(std::move(options)) {}

int LogStream::Buf::overflow(int c) {
  if (c == traits_type::eof()) return traits_type::not_eof(c);
  if (c == '\n') {
    Emit();
  } else if (c != '\r') {
    line += static_cast<char>(c);
  }
  return c;
}

int LogStream::Buf::sync() {
  sink.flush();
  return 0;
}

void LogStream::Buf::Emit() {
  if (level >= options.threshold) {
    Clock* clock = options.clock != nullptr ? options.clock : Clock::Real();
    sink << LogRecord(options, clock->Now(), level, line) << std::flush;
  }
  line.clear();
}

LogStream::LogStream(std::ostream& sink, LogOptions options)
    : std::ostream(nullptr), buf_(sink, std::move(options)) {
  rdbuf(&buf_);
}

LogStream::~LogStream() {
  if (!buf_.line.empty()) buf_.Emit();
}

}  // namespace tradestore
