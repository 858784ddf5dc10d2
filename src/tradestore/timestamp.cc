#include "tradestore/timestamp.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/internal/quote.h"

namespace tradestore {
namespace {

// Howard Hinnant's days_from_civil / civil_from_days: proleptic Gregorian.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

const int64_t kMinMicros =
    DaysFromCivil(1, 1, 1) * 86400 * Timestamp::kMicrosPerSecond;
const int64_t kMaxMicros =
    (DaysFromCivil(10000, 1, 1) * 86400) * Timestamp::kMicrosPerSecond - 1;

// Reads exactly `n` digits at text[*i] into *out.
bool ReadDigits(absl::string_view text, size_t* i, int n, int* out) {
  if (*i + n > text.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    const char c = text[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

bool Expect(absl::string_view text, size_t* i, char c) {
  if (*i < text.size() && text[*i] == c) {
    ++*i;
    return true;
  }
  return false;
}

// FromCivil's rules, without building a Status for the fast path's refusals.
bool CivilToMicros(int year, int month, int day, int hour, int minute,
                   int second, int micros, int64_t* out) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month) || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59 || micros < 0 ||
      micros >= Timestamp::kMicrosPerSecond) {
    return false;
  }
  const int64_t seconds = DaysFromCivil(year, month, day) * 86400 +
                          hour * 3600 + minute * 60 + second;
  *out = seconds * Timestamp::kMicrosPerSecond + micros;
  return true;
}

// The form ToIso8601 writes, "YYYY-MM-DDTHH:MM:SS.ffffffZ", which every
// trade this code wrote carries three times: read by position, without the
// general parser's steps. Any other text, or a field out of range, is left
// to the general parser, so both always agree.
bool ParseCanonical(absl::string_view text, int64_t* micros) {
  const char* p = text.data();
  if (text.size() != 27 || p[4] != '-' || p[7] != '-' || p[10] != 'T' ||
      p[13] != ':' || p[16] != ':' || p[19] != '.' || p[26] != 'Z') {
    return false;
  }
  // Unsigned, so a byte that is no digit wraps instead of overflowing; any
  // such byte sets `bad`.
  bool bad = false;
  const auto digit = [&](int k) {
    const unsigned v = static_cast<unsigned char>(p[k]) - unsigned{'0'};
    bad |= v > 9;
    return v;
  };
  const auto two = [&](int k) { return digit(k) * 10 + digit(k + 1); };
  const unsigned y = two(0) * 100 + two(2);
  const unsigned us = two(20) * 10000 + two(22) * 100 + two(24);
  const unsigned mo = two(5), d = two(8), h = two(11), mi = two(14),
                 s = two(17);
  if (bad) return false;
  return CivilToMicros(static_cast<int>(y), static_cast<int>(mo),
                       static_cast<int>(d), static_cast<int>(h),
                       static_cast<int>(mi), static_cast<int>(s),
                       static_cast<int>(us), micros);
}

}  // namespace

absl::StatusOr<Timestamp> Timestamp::FromUnixMicros(int64_t micros) {
  if (micros < kMinMicros || micros > kMaxMicros) {
    return absl::OutOfRangeError(absl::StrCat(
        micros, " microseconds since the epoch is outside years 0001-9999"));
  }
  return Timestamp(micros);
}

absl::StatusOr<Timestamp> Timestamp::FromCivil(int year, int month, int day,
                                               int hour, int minute, int second,
                                               int micros) {
  int64_t out = 0;
  if (!CivilToMicros(year, month, day, hour, minute, second, micros, &out)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%04d-%02d-%02d %02d:%02d:%02d.%06d is not a valid date and time", year,
        month, day, hour, minute, second, micros));
  }
  return Timestamp(out);
}

absl::StatusOr<Timestamp> Timestamp::Parse(absl::string_view text) {
  if (int64_t micros = 0; ParseCanonical(text, &micros)) {
    return Timestamp(micros);
  }
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(internal::Quote(text), " is not a timestamp: ", why));
  };
  size_t i = 0;
  int y, mo, d, h, mi, s;
  if (!ReadDigits(text, &i, 4, &y) || !Expect(text, &i, '-') ||
      !ReadDigits(text, &i, 2, &mo) || !Expect(text, &i, '-') ||
      !ReadDigits(text, &i, 2, &d)) {
    return bad("expected YYYY-MM-DD");
  }
  if (!Expect(text, &i, ' ') && !Expect(text, &i, 'T')) {
    return bad("expected ' ' or 'T' after the date");
  }
  if (!ReadDigits(text, &i, 2, &h) || !Expect(text, &i, ':') ||
      !ReadDigits(text, &i, 2, &mi) || !Expect(text, &i, ':') ||
      !ReadDigits(text, &i, 2, &s)) {
    return bad("expected HH:MM:SS");
  }
  int micros = 0;
  if (Expect(text, &i, '.')) {
    int digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (digits < 6) {
        micros = micros * 10 + (text[i] - '0');
      } else if (text[i] != '0') {
        return bad("more than 6 fractional digits (would round)");
      }
    }
    if (digits == 0) return bad("no digits after '.'");
    for (; digits < 6; ++digits) micros *= 10;
  }
  int offset_minutes = 0;
  if (Expect(text, &i, 'Z')) {
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    const int sign = text[i] == '-' ? -1 : 1;
    ++i;
    int oh = 0, om = 0;
    if (!ReadDigits(text, &i, 2, &oh)) return bad("bad UTC offset");
    if (Expect(text, &i, ':')) {
      if (!ReadDigits(text, &i, 2, &om)) return bad("bad UTC offset");
    } else if (i < text.size() && !ReadDigits(text, &i, 2, &om)) {
      return bad("bad UTC offset");
    }
    if (oh > 23 || om > 59) return bad("bad UTC offset");
    offset_minutes = sign * (oh * 60 + om);
  }
  if (i != text.size()) return bad("unexpected trailing characters");
  auto local = FromCivil(y, mo, d, h, mi, s, micros);
  if (!local.ok()) return bad("impossible date or time");
  return FromUnixMicros(local->micros_ -
                        int64_t{offset_minutes} * 60 * kMicrosPerSecond);
}

Timestamp::Civil Timestamp::ToCivil() const {
  int64_t days = micros_ / (86400 * kMicrosPerSecond);
  int64_t rem = micros_ % (86400 * kMicrosPerSecond);
  if (rem < 0) {
    rem += 86400 * kMicrosPerSecond;
    --days;
  }
  Civil c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  const int64_t secs = rem / kMicrosPerSecond;
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.micros = static_cast<int>(rem % kMicrosPerSecond);
  return c;
}

std::string Timestamp::ToIso8601() const {
  const Civil c = ToCivil();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year,
                c.month, c.day, c.hour, c.minute, c.second, c.micros);
  return buf;
}

std::ostream& operator<<(std::ostream& os, Timestamp t) {
  return os << t.ToIso8601();
}

}  // namespace tradestore
