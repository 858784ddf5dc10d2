#include "tradestore/verify/row_text.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tradestore::verify {
namespace {

// COPY TO's text escaping (CopyAttributeOutText): backslash and the six
// control characters with a letter escape; every other byte as is.
void AppendCopyEscaped(std::string* out, absl::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\v': out->append("\\v"); break;
      default: out->push_back(c);
    }
  }
}

void Append2(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2 ? 1 : 0));
}

}  // namespace

const char kPgSelectColumns[] =
    "id, symbol, side, quantity, price, \"timestamp\", status, "
    "client_order_id, fee, version, created_at, updated_at";

void AppendPgTimestamp(std::string* out, Timestamp t) {
  constexpr int64_t kDay = 86'400'000'000;
  const int64_t micros = t.unix_micros();
  int64_t days = micros / kDay;
  int64_t rem = micros % kDay;
  if (rem < 0) {
    rem += kDay;
    --days;
  }
  int y, m, d;
  CivilFromDays(days, &y, &m, &d);
  const int64_t secs = rem / 1'000'000;
  int frac = static_cast<int>(rem % 1'000'000);
  char date[16];
  const int year = y;
  date[0] = static_cast<char>('0' + year / 1000 % 10);
  date[1] = static_cast<char>('0' + year / 100 % 10);
  date[2] = static_cast<char>('0' + year / 10 % 10);
  date[3] = static_cast<char>('0' + year % 10);
  out->append(date, 4);
  out->push_back('-');
  Append2(out, m);
  out->push_back('-');
  Append2(out, d);
  out->push_back(' ');
  Append2(out, static_cast<int>(secs / 3600));
  out->push_back(':');
  Append2(out, static_cast<int>(secs / 60 % 60));
  out->push_back(':');
  Append2(out, static_cast<int>(secs % 60));
  if (frac != 0) {
    char digits[7];
    for (int i = 5; i >= 0; --i) {
      digits[i] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    int n = 6;
    while (digits[n - 1] == '0') --n;
    out->push_back('.');
    out->append(digits, n);
  }
  out->append("+00");
}

void AppendRowText(std::string* out, const Trade& t) {
  absl::StrAppend(out, t.id, "\t");
  AppendCopyEscaped(out, t.symbol);
  absl::StrAppend(out, "\t", SideName(t.side), "\t", t.quantity.ToString(),
                  "\t", t.price.ToString(), "\t");
  AppendPgTimestamp(out, t.timestamp);
  absl::StrAppend(out, "\t", StatusName(t.status), "\t");
  if (t.client_order_id) {
    AppendCopyEscaped(out, *t.client_order_id);
  } else {
    out->append("\\N");
  }
  absl::StrAppend(out, "\t", t.fee ? t.fee->ToString() : "\\N", "\t",
                  t.version, "\t");
  AppendPgTimestamp(out, t.created_at);
  out->push_back('\t');
  AppendPgTimestamp(out, t.updated_at);
}

std::vector<absl::string_view> SplitFields(absl::string_view line) {
  return absl::StrSplit(line, '\t');
}

int64_t LineId(absl::string_view line) {
  int64_t id = 0;
  const size_t tab = line.find('\t');
  if (!absl::SimpleAtoi(line.substr(0, tab), &id)) return -1;
  return id;
}

}  // namespace tradestore::verify
