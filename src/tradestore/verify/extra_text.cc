#include "tradestore/verify/extra_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/copy_escape.h"

namespace tradestore::verify {
namespace {

// Appends numeric_out of what numeric_in makes of a JSON number's text:
// exponents spelled out, as many decimal places as the text had less its
// exponent, no minus on zero ("1.5e-07" -> "0.00000015", "1e+20" -> "1" and
// 20 zeros).
void AppendNumericText(std::string* out, absl::string_view text) {
  const bool negative = !text.empty() && text[0] == '-';
  const size_t e = text.find_first_of("eE");  // npos: no exponent
  const absl::string_view mantissa = text.substr(
      negative ? 1 : 0, e == absl::string_view::npos ? absl::string_view::npos
                                                     : e - (negative ? 1 : 0));
  const bool zero =
      mantissa.find_first_of("123456789") == absl::string_view::npos;
  if (e == absl::string_view::npos) {
    absl::StrAppend(out, zero && negative ? mantissa : text);
    return;
  }
  const long exponent =
      std::strtol(std::string(text.substr(e + 1)).c_str(), nullptr, 10);
  const size_t point = mantissa.find('.');
  std::string digits(mantissa);
  long whole = static_cast<long>(mantissa.size());  // digits before the point
  if (point != absl::string_view::npos) {
    digits.erase(point, 1);
    whole = static_cast<long>(point);
  }
  whole += exponent;
  const long length = static_cast<long>(digits.size());
  std::string plain;
  if (whole <= 0) {
    plain = "0." + std::string(static_cast<size_t>(-whole), '0') + digits;
  } else if (whole >= length) {
    plain = digits + std::string(static_cast<size_t>(whole - length), '0');
  } else {
    plain = digits.substr(0, whole) + "." + digits.substr(whole);
  }
  // One zero before the point at most.
  const size_t first = plain.find_first_not_of('0');
  if (first == std::string::npos || plain[first] == '.') {
    plain.erase(0, first == std::string::npos ? plain.size() - 1 : first - 1);
  } else {
    plain.erase(0, first);
  }
  if (negative && !zero) out->push_back('-');
  out->append(plain);
}

// escape_json's rules: the usual short escapes, other control characters
// as \u00XX in lower case, everything else (UTF-8 too) as it is.
void AppendEscaped(std::string* out, const std::string& s) {
  out->push_back('"');
  for (const char c : s) {
    if (const char* escape = internal::ControlEscape(c)) {
      out->append(escape);
    } else if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < ' ') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<int>(c));
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Appends an object of (key, value) entries as jsonb prints it: keys shorter
// first, equal lengths by their bytes; `append_value(out, value)` writes a
// value.
template <typename Value, typename AppendValue>
void AppendJsonbObject(
    std::string* out,
    std::vector<std::pair<const std::string*, const Value*>> entries,
    AppendValue append_value) {
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first->size() != b.first->size()
               ? a.first->size() < b.first->size()
               : *a.first < *b.first;
  });
  out->push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out->append(", ");
    AppendEscaped(out, *entries[i].first);
    out->append(": ");
    append_value(out, *entries[i].second);
  }
  out->push_back('}');
}

void AppendJsonb(std::string* out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      AppendEscaped(out, v.get_ref<const std::string&>());
      return;
    case nlohmann::json::value_t::number_float:
      AppendNumericText(out, v.dump());
      return;
    case nlohmann::json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v) {
        if (!first) out->append(", ");
        first = false;
        AppendJsonb(out, item);
      }
      out->push_back(']');
      return;
    }
    case nlohmann::json::value_t::object: {
      std::vector<std::pair<const std::string*, const nlohmann::json*>> entries;
      for (const auto& [key, item] : v.items())
        entries.emplace_back(&key, &item);
      AppendJsonbObject(out, std::move(entries), AppendJsonb);
      return;
    }
    default:  // null, booleans and integers print the same in both
      out->append(v.dump());
  }
}

// What JsonbText prints for ValueJson(v) (legacy_row.cc), without building
// the JSON value.
void AppendStoredValue(std::string* out, const SqlValue& v) {
  switch (v.type) {
    case SqlValue::Type::kNull:
      out->append("null");
      return;
    case SqlValue::Type::kInteger:
      absl::StrAppend(out, v.integer);
      return;
    case SqlValue::Type::kReal:
      if (std::isfinite(v.real)) {
        // nlohmann's own digits (what dump, and so the backfill, writes).
        char digits[64];
        const char* end =
            nlohmann::detail::to_chars(digits, digits + sizeof digits, v.real);
        AppendNumericText(out, absl::string_view(digits, end - digits));
      } else {
        out->append("{\"$real\": ");
        AppendEscaped(out, DescribeValue(v));
        out->push_back('}');
      }
      return;
    case SqlValue::Type::kText:
      if (IsValidUtf8(v.text)) {
        AppendEscaped(out, v.text);
        return;
      }
      [[fallthrough]];
    case SqlValue::Type::kBlob:
      absl::StrAppend(out, "{\"$hex\": \"", absl::BytesToHexString(v.text),
                      "\"}");
      return;
  }
}

// The text as an object without its null values; a NULL (empty text) is
// an empty object.
nlohmann::json WithoutNulls(absl::string_view text) {
  if (text.empty()) return nlohmann::json::object();
  nlohmann::json j = nlohmann::json::parse(text, nullptr,
                                           /*allow_exceptions=*/false);
  if (!j.is_object()) return j;
  for (auto it = j.begin(); it != j.end();) {
    it = it->is_null() ? j.erase(it) : std::next(it);
  }
  return j;
}

}  // namespace

std::string JsonbText(const nlohmann::json& value) {
  std::string out;
  AppendJsonb(&out, value);
  return out;
}

std::string ExtraJsonbText(const StoredRow& row) {
  if (row.extra.empty()) return "";
  // JsonbText(ExtraColumnsObject(row)), written straight from the values:
  // a verify of a store with legacy columns does this for every row.
  std::vector<std::string> keys;
  keys.reserve(row.extra.size());
  for (const auto& [name, value] : row.extra) {
    keys.push_back(ExtraColumnKey(name));
  }
  std::vector<std::pair<const std::string*, const SqlValue*>> entries;
  for (size_t i = 0; i < row.extra.size(); ++i) {
    entries.emplace_back(&keys[i], &row.extra[i].second);
  }
  std::string out;
  AppendJsonbObject(&out, std::move(entries), AppendStoredValue);
  return out;
}

bool ExtrasMatch(absl::string_view a, absl::string_view b) {
  if (a == b) return true;
  const nlohmann::json x = WithoutNulls(a);
  const nlohmann::json y = WithoutNulls(b);
  return !x.is_discarded() && !y.is_discarded() && x == y;
}

}  // namespace tradestore::verify
