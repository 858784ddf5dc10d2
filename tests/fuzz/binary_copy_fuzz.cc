// The binary COPY row splitter and field decoders on any bytes: a row that
// parses is exactly its fields re-encoded, and every decoded value agrees
// with a reference reading of Postgres's send formats.
#include "absl/strings/str_cat.h"
#include "fuzz_targets.h"
#include "tradestore/postgres/pg_binary_copy.h"

namespace tradestore::fuzz {
namespace {

constexpr const char* kName = "binary_copy_row";

uint64_t BigEndian(absl::string_view b, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v = (v << 8) | static_cast<uint8_t>(b[at + i]);
  }
  return v;
}

void PutBigEndian(std::string& out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

// NUMERIC's send format read as the number it denotes, times 10^scale:
// false when that is not a whole number inside int64 (or NaN, infinite).
bool ReferenceNumeric(absl::string_view f, int scale, int64_t* units) {
  if (f.size() < 8) return false;
  const auto n = static_cast<int16_t>(BigEndian(f, 0, 2));
  const auto weight = static_cast<int16_t>(BigEndian(f, 2, 2));
  const auto sign = BigEndian(f, 4, 2);
  if (n < 0 || f.size() != 8 + 2 * static_cast<size_t>(n)) return false;
  if (sign != 0 && sign != 0x4000) return false;
  const __int128 limit = static_cast<__int128>(1) << 64;
  __int128 v = 0;
  for (int i = 0; i < n; ++i) {
    __int128 d = BigEndian(f, 8 + 2 * i, 2);
    // The digit's power of ten once scaled: 4 * (weight - i) + scale.
    int e = 4 * (weight - i) + scale;
    for (; e > 0 && d != 0; --e) {
      d *= 10;
      if (d > limit) return false;
    }
    for (; e < 0 && d != 0; ++e) {
      if (d % 10 != 0) return false;  // a fraction below 10^-scale
      d /= 10;
    }
    v += d;
    if (v > limit) return false;
  }
  if (sign == 0x4000) v = -v;
  if (v > INT64_MAX || v < INT64_MIN) return false;
  *units = static_cast<int64_t>(v);
  return true;
}

void Field(absl::string_view f) {
  auto i8 = pg::ReadInt8(f);
  FUZZ_CHECK(kName, i8.ok() == (f.size() == 8), "ReadInt8 length check");
  if (i8.ok()) {
    FUZZ_CHECK(kName, *i8 == static_cast<int64_t>(BigEndian(f, 0, 8)),
               "ReadInt8");
  }
  auto ts = pg::ReadTimestamptz(f);
  if (ts.ok()) {
    FUZZ_CHECK(kName, f.size() == 8, "ReadTimestamptz length check");
    const auto micros = static_cast<int64_t>(BigEndian(f, 0, 8));
    FUZZ_CHECK(kName, ts->unix_micros() - pg::kPgEpochUnixMicros == micros,
               "ReadTimestamptz value");
  }
  for (int scale : {0, 8}) {
    auto units = pg::ReadNumericUnits(f, scale);
    if (!units.ok()) continue;
    int64_t reference = 0;
    FUZZ_CHECK(kName, ReferenceNumeric(f, scale, &reference),
               absl::StrCat("ReadNumericUnits accepted what the reference "
                            "refuses, scale ",
                            scale));
    FUZZ_CHECK(
        kName, *units == reference,
        absl::StrCat("ReadNumericUnits ", *units, ", reference ", reference));
  }
}

}  // namespace

void BinaryCopyRow(const uint8_t* data, size_t size) {
  const absl::string_view raw(reinterpret_cast<const char*>(data), size);
  pg::BinaryRow row;
  if (pg::ParseBinaryRow(raw, &row).ok()) {
    std::string again;
    PutBigEndian(again, static_cast<uint64_t>(row.size()), 2);
    for (int i = 0; i < row.size(); ++i) {
      if (row.null(i)) {
        PutBigEndian(again, 0xffffffff, 4);
        continue;
      }
      PutBigEndian(again, row.field(i).size(), 4);
      absl::StrAppend(&again, row.field(i));
      Field(row.field(i));
    }
    FUZZ_CHECK(kName, again == raw, "a parsed row is not its fields");
  }
  Field(raw);
}

}  // namespace tradestore::fuzz
