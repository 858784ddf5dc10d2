#include "tradestore/internal/shared_log.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"

namespace tradestore::internal {
namespace {

// Two threads writing lines in pieces: every line arrives whole, and each
// writer's lines in its order.
TEST(SharedLogTest, LinesFromManyThreadsArriveWhole) {
  std::ostringstream target;
  {
    SharedLog log(target);
    std::vector<std::thread> threads;
    for (const char* name : {"a", "b"}) {
      threads.emplace_back([&log, name] {
        auto out = log.NewWriter();
        for (int i = 0; i < 2000; ++i) *out << name << "-" << i << "\n";
      });
    }
    for (auto& t : threads) t.join();
  }
  std::vector<int> next = {0, 0};
  int lines = 0;
  for (absl::string_view line :
       absl::StrSplit(target.str(), '\n', absl::SkipEmpty())) {
    ++lines;
    ASSERT_TRUE(line.size() > 2 && (line[0] == 'a' || line[0] == 'b') &&
                line[1] == '-')
        << line;
    const int writer = line[0] - 'a';
    EXPECT_EQ(line.substr(2), std::to_string(next[writer])) << line;
    ++next[writer];
  }
  EXPECT_EQ(lines, 4000);
}

// A flush sends what is held without a line end (a progress line redrawn
// in place), and a writer's end sends the rest.
TEST(SharedLogTest, FlushAndEndSendWhatIsHeld) {
  std::ostringstream target;
  SharedLog log(target);
  auto out = log.NewWriter();
  *out << "\r50%";
  EXPECT_EQ(target.str(), "");
  *out << std::flush;
  EXPECT_EQ(target.str(), "\r50%");
  *out << "\r100%";
  out.reset();
  EXPECT_EQ(target.str(), "\r50%\r100%");
}

}  // namespace
}  // namespace tradestore::internal
