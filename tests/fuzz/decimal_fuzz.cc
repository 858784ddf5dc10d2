// Decimal text against an independent reference parser, the round trips of
// both renderings, and the REAL-to-8-places rounding against printf.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "fuzz_targets.h"
#include "tradestore/decimal.h"
#include "tradestore/sqlite/legacy_row.h"

namespace tradestore::fuzz {
namespace {

constexpr const char* kName = "decimal_text";

// DECIMAL(18,8) text as the documentation states it, written apart from
// Decimal::Parse: sign, digits, point, digits; at least one digit; decimals
// past the 8th only zeros; |value| < 1e10.
bool Reference(absl::string_view t, int64_t* units) {
  bool negative = false;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    negative = t[0] == '-';
    t.remove_prefix(1);
  }
  const size_t dot = t.find('.');
  const absl::string_view whole = t.substr(0, dot);
  const absl::string_view part =
      dot == absl::string_view::npos ? "" : t.substr(dot + 1);
  if (whole.empty() && part.empty()) return false;
  for (absl::string_view s : {whole, part}) {
    for (char c : s) {
      if (c < '0' || c > '9') return false;
    }
  }
  __int128 v = 0;
  for (char c : whole) {
    v = v * 10 + (c - '0');
    if (v > Decimal::kMaxUnits) return false;  // already too big
  }
  for (size_t k = 0; k < 8; ++k) {
    v = v * 10 + (k < part.size() ? part[k] - '0' : 0);
  }
  for (size_t k = 8; k < part.size(); ++k) {
    if (part[k] != '0') return false;
  }
  if (v > Decimal::kMaxUnits) return false;
  *units = static_cast<int64_t>(negative ? -v : v);
  return true;
}

void Text(absl::string_view text) {
  auto parsed = Decimal::Parse(text);
  int64_t units = 0;
  const bool reference = Reference(text, &units);
  FUZZ_CHECK(kName, parsed.ok() == reference,
             absl::StrCat("Parse and the reference disagree on \"", text,
                          "\": ", parsed.status().ToString()));
  if (!parsed.ok()) return;
  FUZZ_CHECK(kName, parsed->units() == units,
             absl::StrCat("\"", text, "\" parsed as ", parsed->units(),
                          " units, the reference says ", units));
  for (const std::string& again :
       {parsed->ToString(), parsed->ToShortString()}) {
    auto back = Decimal::Parse(again);
    FUZZ_CHECK(kName, back.ok() && *back == *parsed,
               absl::StrCat("\"", again, "\" does not parse back"));
  }
}

// RoundToScale against printf("%.*f"), for the values it promises.
void Real(double v, int scale) {
  if (!std::isfinite(v) || std::fabs(v) * std::pow(10.0, scale) >= 0x1p62) {
    return;
  }
  char printed[64];
  std::snprintf(printed, sizeof printed, "%.*f", scale, v);
  std::string digits;
  for (const char* p = printed; *p != '\0'; ++p) {
    if (*p != '.') digits.push_back(*p);
  }
  const int64_t expected = std::strtoll(digits.c_str(), nullptr, 10);
  const int64_t got = RoundToScale(v, scale);
  FUZZ_CHECK(kName, got == expected,
             absl::StrCat("RoundToScale(", printed, ", ", scale, ") = ", got,
                          ", printf says ", expected));
}

}  // namespace

void DecimalText(const uint8_t* data, size_t size) {
  Text(absl::string_view(reinterpret_cast<const char*>(data), size));
  Bytes in(data, size);
  const double v = in.Double();
  Real(v, in.Byte() % 9);
  Real(v, 8);
}

}  // namespace tradestore::fuzz
