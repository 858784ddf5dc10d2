#include "tradestore/postgres/row_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/copy_escape.h"

namespace tradestore::pg {
namespace {

void Append2(std::string* out, int v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

}  // namespace

// The leading columns spelled once, so the two lists cannot drift apart.
#define TRADESTORE_TRADE_COLUMNS                               \
  "id, symbol, side, quantity, price, \"timestamp\", status, " \
  "client_order_id, fee, "
const char kPgSelectColumns[] =
    TRADESTORE_TRADE_COLUMNS "version, created_at, updated_at";
// Each field Postgres sends costs it a send call; a NULL costs none. The
// three columns are NOT NULL and the comparisons exact, so a NULL here
// stands for exactly the value compared against, which every row a legacy
// store had holds.
const char kPgVerifyColumns[] = TRADESTORE_TRADE_COLUMNS
    "NULLIF(version, 1), NULLIF(created_at, \"timestamp\"), "
    "NULLIF(updated_at, created_at), extra";
#undef TRADESTORE_TRADE_COLUMNS

void AppendPgTimestamp(std::string* out, Timestamp t) {
  const Timestamp::Civil c = t.ToCivil();
  Append2(out, c.year / 100);  // years are 1..9999
  Append2(out, c.year % 100);
  out->push_back('-');
  Append2(out, c.month);
  out->push_back('-');
  Append2(out, c.day);
  out->push_back(' ');
  Append2(out, c.hour);
  out->push_back(':');
  Append2(out, c.minute);
  out->push_back(':');
  Append2(out, c.second);
  if (c.micros != 0) {
    char digits[6];
    int frac = c.micros;
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
  internal::AppendCopyEscaped(out, t.symbol);
  absl::StrAppend(out, "\t", SideName(t.side), "\t", t.quantity.ToString(),
                  "\t", t.price.ToString(), "\t");
  AppendPgTimestamp(out, t.timestamp);
  absl::StrAppend(out, "\t", StatusName(t.status), "\t");
  if (t.client_order_id) {
    internal::AppendCopyEscaped(out, *t.client_order_id);
  } else {
    out->append("\\N");
  }
  absl::StrAppend(out, "\t", t.fee ? t.fee->ToString() : "\\N", "\t", t.version,
                  "\t");
  AppendPgTimestamp(out, t.created_at);
  out->push_back('\t');
  AppendPgTimestamp(out, t.updated_at);
}

std::vector<absl::string_view> SplitFields(absl::string_view line) {
  return absl::StrSplit(line, '\t');
}

}  // namespace tradestore::pg
