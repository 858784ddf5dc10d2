#include "tradestore/verify/extra_text.h"

#include <gtest/gtest.h>

namespace tradestore::verify {
namespace {

TEST(ExtrasMatchTest, NullValuesAndNoExtraAreTheSame) {
  EXPECT_TRUE(ExtrasMatch("", ""));
  EXPECT_TRUE(ExtrasMatch("", R"({"venue": null})"));
  EXPECT_TRUE(ExtrasMatch(R"({"venue": null, "lot": 1})", R"({"lot": 1})"));
  EXPECT_FALSE(ExtrasMatch("", R"({"venue": "XLON"})"));
  EXPECT_FALSE(ExtrasMatch(R"({"venue": ""})", R"({"venue": null})"));
}

TEST(ExtrasMatchTest, NumbersByValueStringsByBytes) {
  EXPECT_TRUE(ExtrasMatch(R"({"lot": 1e+20})",
                          R"({"lot": 100000000000000000000})"));
  EXPECT_TRUE(ExtrasMatch(R"({"lot": 2.50})", R"({"lot": 2.5})"));
  EXPECT_FALSE(ExtrasMatch(R"({"lot": 2.5})", R"({"lot": 2.5000000000001})"));
  EXPECT_FALSE(ExtrasMatch(R"({"lot": 1})", R"({"lot": "1"})"));
  EXPECT_FALSE(ExtrasMatch(R"({"v": "caf\u00e9"})", R"({"v": "cafe"})"));
  EXPECT_TRUE(ExtrasMatch(R"({"v": "caf\u00e9"})", "{\"v\": \"caf\xc3\xa9\"}"));
  EXPECT_FALSE(ExtrasMatch(R"({"a": 1})", R"({"a": 1, "b": 2})"));
}

TEST(ExtrasMatchTest, TextThatIsNotJsonNeverMatches) {
  EXPECT_FALSE(ExtrasMatch("{", "{}"));
  EXPECT_FALSE(ExtrasMatch("{", "{ "));
}

TEST(JsonbTextTest, KeysShorterFirstNumbersAsNumericPrintsThem) {
  const nlohmann::json j = nlohmann::json::parse(
      R"({"venue": "X", "b": 1.5e-07, "aa": -0.0, "c": [1e+20, null, true]})");
  EXPECT_EQ(JsonbText(j),
            R"({"b": 0.00000015, "c": [100000000000000000000, null, true], )"
            R"("aa": 0.0, "venue": "X"})");
  EXPECT_EQ(JsonbText(nlohmann::json("a\x01\"\\\n")), R"("a\u0001\"\\\n")");
}

}  // namespace
}  // namespace tradestore::verify
