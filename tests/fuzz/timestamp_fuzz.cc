// Timestamp text and epoch values: whatever parses renders and parses back
// to the same microsecond.
#include "absl/strings/str_cat.h"
#include "fuzz_targets.h"
#include "tradestore/timestamp.h"

namespace tradestore::fuzz {
namespace {

constexpr const char* kName = "timestamp_text";

void RoundTrip(Timestamp t, absl::string_view from) {
  const std::string text = t.ToIso8601();
  auto back = Timestamp::Parse(text);
  FUZZ_CHECK(kName, back.ok() && *back == t,
             absl::StrCat("\"", from, "\" renders as \"", text,
                          "\", which does not parse back"));
  const Timestamp::Civil c = t.ToCivil();
  auto civil = Timestamp::FromCivil(c.year, c.month, c.day, c.hour, c.minute,
                                    c.second, c.micros);
  FUZZ_CHECK(kName, civil.ok() && *civil == t,
             absl::StrCat("\"", text, "\" does not survive ToCivil"));
}

}  // namespace

void TimestampText(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = Timestamp::Parse(text);
  if (parsed.ok()) RoundTrip(*parsed, text);
  Bytes in(data, size);
  const auto micros = static_cast<int64_t>(in.U64());
  auto t = Timestamp::FromUnixMicros(micros);
  if (t.ok()) RoundTrip(*t, absl::StrCat(micros, " us"));
}

}  // namespace tradestore::fuzz
