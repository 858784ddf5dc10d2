#include "tradestore/internal/log_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>

#include "nlohmann/json.hpp"

namespace tradestore {
namespace {

Timestamp At() { return *Timestamp::FromCivil(2026, 12, 3, 7, 20, 1, 123456); }

TEST(LogStreamTest, TextLinesCarryTheTimeAndLevelsOtherThanInfo) {
  SimulatedClock clock(At());
  std::ostringstream sink;
  {
    LogStream log(sink, {.command = "verify", .clock = &clock});
    log << "verify: 10/20 rows"
        << "\n";
    log.SetLevel(LogLevel::kWarning);
    log << "slow";
    log << " disk\n";
    log.SetLevel(LogLevel::kDebug);
    log << "dropped at the info threshold\n";
    log.SetLevel(LogLevel::kError);
    log << "refused\n";
    log << "\tIs the server running?\n";
    log.SetLevel(LogLevel::kInfo);
    log << "unfinished";  // written when the stream ends
  }
  EXPECT_EQ(sink.str(),
            "2026-12-03T07:20:01.123456Z verify: 10/20 rows\n"
            "2026-12-03T07:20:01.123456Z warning: slow disk\n"
            "2026-12-03T07:20:01.123456Z error: refused\n"
            "2026-12-03T07:20:01.123456Z error: \tIs the server running?\n"
            "2026-12-03T07:20:01.123456Z unfinished\n");
}

TEST(LogStreamTest, JsonLinesParseWhateverTheMessageHolds) {
  SimulatedClock clock(At());
  std::ostringstream sink;
  LogStream log(sink, {.format = LogFormat::kJson,
                       .threshold = LogLevel::kWarning,
                       .command = "backfill",
                       .clock = &clock});
  log << "info is dropped under --quiet\n";
  EXPECT_FALSE(log.Enabled(LogLevel::kInfo));
  EXPECT_TRUE(log.Enabled(LogLevel::kError));
  log.SetLevel(LogLevel::kError);
  log << "a \"quoted\" \\ path\twith\x01 control "
      << "\xc3\xa9\n";
  const std::string written = sink.str();
  const nlohmann::json j = nlohmann::json::parse(written);
  EXPECT_EQ(j["time"], "2026-12-03T07:20:01.123456Z");
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["command"], "backfill");
  EXPECT_EQ(j["message"], "a \"quoted\" \\ path\twith\x01 control \xc3\xa9");
  EXPECT_EQ(written.back(), '\n');
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 1);
}

}  // namespace
}  // namespace tradestore
