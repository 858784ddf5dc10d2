#include "tradestore/verify/extra_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tradestore/sqlite/legacy_json.h"

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
  EXPECT_TRUE(
      ExtrasMatch(R"({"lot": 1e+20})", R"({"lot": 100000000000000000000})"));
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

// The verifier writes a row's extras straight from the stored values; that
// must be what jsonb prints for the JSON the backfill stored
// (ExtraColumnsObject), whatever the value.
TEST(JsonbTextTest, ExtraJsonbTextIsJsonbTextOfTheBackfillsJson) {
  const std::vector<SqlValue> values = {
      SqlValue::Null(),
      SqlValue::Integer(0),
      SqlValue::Integer(INT64_MIN),
      SqlValue::Real(7.0),
      SqlValue::Real(-0.0),
      SqlValue::Real(0.1),
      SqlValue::Real(200.0 / 7),
      SqlValue::Real(1e15),
      SqlValue::Real(1e16),
      SqlValue::Real(1.5e-7),
      SqlValue::Real(-2.5e-5),
      SqlValue::Real(1e300),
      SqlValue::Real(std::numeric_limits<double>::denorm_min()),
      SqlValue::Real(INFINITY),
      SqlValue::Real(-INFINITY),
      SqlValue::Text(""),
      SqlValue::Text("caf\xc3\xa9 \"q\" \\ \t\n\x01\x1f\x7f"),
      SqlValue::Text("not utf-8 \xff"),
      SqlValue::Blob(std::string("\0\x01\xff", 3))};
  for (size_t i = 0; i < values.size(); ++i) {
    StoredRow row;
    row.extra = {{"venue", values[i]},
                 {"a", values[values.size() - 1 - i]},
                 {"lot", SqlValue::Integer(1)},
                 {"b\"c", values[i]}};
    EXPECT_EQ(ExtraJsonbText(row), JsonbText(ExtraColumnsObject(row)))
        << "value " << i << ": " << DescribeValue(values[i]);
  }
  EXPECT_EQ(ExtraJsonbText(StoredRow()), "");
}

}  // namespace
}  // namespace tradestore::verify
