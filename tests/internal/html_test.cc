#include "tradestore/internal/html.h"

#include <gtest/gtest.h>

#include <string>

namespace tradestore::internal {
namespace {

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(HtmlTest, EscapesWhatCouldOpenATagOrCloseAnAttribute) {
  EXPECT_EQ(HtmlEscape("<img src=x onerror='a&b'>\"q\""),
            "&lt;img src=x onerror=&#39;a&amp;b&#39;&gt;&quot;q&quot;");
  EXPECT_EQ(HtmlEscape("EUR/USD 1.5"), "EUR/USD 1.5");
}

TEST(HtmlTest, APageFetchesNothingAndEscapesItsTitle) {
  const std::string page = HtmlPage("a <b>", "<p>body</p>");
  EXPECT_NE(page.find("<title>a &lt;b&gt;</title>"), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
  EXPECT_NE(page.find("<p>body</p>"), std::string::npos);
  EXPECT_EQ(page.find("://"), std::string::npos);
}

TEST(HtmlTest, AChartHasAMarkPerValueOnARoundAxis) {
  const std::string chart =
      SvgChart({.title = "t", .css_class = "run", .unit = "s"},
               {{0, "zero", false}, {423, "<many>", true}, {7, "few", true}});
  EXPECT_EQ(Count(chart, "class=\"mark run\""), 1);
  EXPECT_EQ(Count(chart, "class=\"mark run alert\""), 2);
  // 0, half and the top of a 1-2-5 scale above the largest value.
  EXPECT_NE(chart.find(">500s</text>"), std::string::npos) << chart;
  EXPECT_NE(chart.find(">250s</text>"), std::string::npos) << chart;
  EXPECT_NE(chart.find("<title>&lt;many&gt;</title>"), std::string::npos);
  // A small alert beside a tall one is still drawn 6 pixels high.
  EXPECT_NE(chart.find("height=\"6.0\"><title>few"), std::string::npos)
      << chart;
}

TEST(HtmlTest, ALineChartAndAnEmptyOne) {
  const std::string line = SvgChart({.css_class = "lag", .bars = false},
                                    {{1.5, "a", false}, {0.25, "b", false}});
  EXPECT_EQ(Count(line, "<circle class=\"mark lag\""), 2);
  EXPECT_EQ(Count(line, "<polyline"), 1);
  EXPECT_NE(line.find(">2</text>"), std::string::npos) << line;
  EXPECT_NE(SvgChart({}, {}).find("nothing recorded yet"), std::string::npos);
}

TEST(HtmlTest, BarsScaleToTheLargestAndAZeroHasNoBar) {
  const std::string bars =
      SvgBarList("kinds", "kind", {{"missing", 10, true}, {"none", 0, false}});
  EXPECT_NE(bars.find("width=\"440.0\""), std::string::npos) << bars;
  EXPECT_NE(bars.find("width=\"0.0\""), std::string::npos) << bars;
  EXPECT_EQ(Count(bars, "class=\"mark kind alert\""), 1);
}

}  // namespace
}  // namespace tradestore::internal
