#include "tradestore/internal/quote.h"

#include <gtest/gtest.h>

#include <string>

namespace tradestore::internal {
namespace {

TEST(QuoteTest, KeepsPrintableTextAndUtf8) {
  EXPECT_EQ(Quote("AAPL"), "\"AAPL\"");
  EXPECT_EQ(Quote("café 日本"), "\"café 日本\"");
  EXPECT_EQ(Quote(""), "\"\"");
}

TEST(QuoteTest, EscapesWhatCouldForgeALineOrColourATerminal) {
  EXPECT_EQ(Quote(std::string("a\0b", 3)), "\"a\\x00b\"");
  EXPECT_EQ(Quote("x\n  copied 1\r\t\x1b[31m"),
            "\"x\\n  copied 1\\r\\t\\x1b[31m\"");
  EXPECT_EQ(Quote("say \"hi\" \\"), "\"say \\\"hi\\\" \\\\\"");
  EXPECT_EQ(Quote("\x7f"), "\"\\x7f\"");
  // C1 controls (8-bit CSI), line separators and bidi overrides.
  EXPECT_EQ(Quote("\xc2\x9b"
                  "31m"),
            "\"\\u009b31m\"");
  EXPECT_EQ(Quote("a\xe2\x80\xa8"
                  "b"),
            "\"a\\u2028b\"");
  EXPECT_EQ(Quote("\xe2\x80\xae"
                  "cba"),
            "\"\\u202ecba\"");
}

TEST(QuoteTest, ShowsInvalidUtf8ByteByByte) {
  EXPECT_EQ(Quote("BTC\xff"), "\"BTC\\xff\"");
  EXPECT_EQ(Quote("\xc0\xaf"), "\"\\xc0\\xaf\"");           // overlong '/'
  EXPECT_EQ(Quote("\xed\xa0\x80"), "\"\\xed\\xa0\\x80\"");  // a surrogate
  EXPECT_EQ(Quote("\xe2\x82"), "\"\\xe2\\x82\"");           // cut short
}

TEST(QuoteTest, CutsLongValuesAtACharacterWithTheirSize) {
  const std::string big(1000000, 'X');
  const std::string quoted = Quote(big);
  EXPECT_EQ(quoted,
            "\"" + std::string(kQuoteMaxBytes, 'X') + "...\" (1000000 bytes)");
  // é is two bytes: the cut never splits it.
  std::string accents;
  for (int i = 0; i < 40; ++i) accents += "é";
  const std::string cut = Quote(accents, 5);
  EXPECT_EQ(cut, "\"éé...\" (80 bytes)");
}

TEST(QuoteTest, EscapeLeavesOutQuotesAndNeverCuts) {
  EXPECT_EQ(Escape("line\nnext"), "line\\nnext");
  EXPECT_EQ(Escape(std::string(100, 'y')), std::string(100, 'y'));
}

}  // namespace
}  // namespace tradestore::internal
