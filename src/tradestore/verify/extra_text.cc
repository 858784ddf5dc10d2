#include "tradestore/verify/extra_text.h"

#include <algorithm>
#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tradestore/sqlite/legacy_json.h"

namespace tradestore::verify {
namespace {

// numeric_out of what numeric_in makes of a JSON number's text: exponents
// spelled out, as many decimal places as the text had less its exponent,
// no minus on zero ("1.5e-07" -> "0.00000015", "1e+20" -> "1" and 20
// zeros).
std::string NumericText(const std::string& text) {
  const size_t e = text.find_first_of("eE");
  const bool negative = !text.empty() && text[0] == '-';
  const std::string mantissa =
      text.substr(negative ? 1 : 0, e == std::string::npos ? std::string::npos
                                                           : e - (negative ? 1 : 0));
  const long exponent =
      e == std::string::npos ? 0 : std::strtol(text.c_str() + e + 1, nullptr, 10);
  const size_t point = mantissa.find('.');
  std::string digits = mantissa;
  long whole = static_cast<long>(mantissa.size());  // digits before the point
  if (point != std::string::npos) {
    digits.erase(point, 1);
    whole = static_cast<long>(point);
  }
  whole += exponent;
  const long length = static_cast<long>(digits.size());
  std::string out;
  if (whole <= 0) {
    out = "0." + std::string(static_cast<size_t>(-whole), '0') + digits;
  } else if (whole >= length) {
    out = digits + std::string(static_cast<size_t>(whole - length), '0');
  } else {
    out = digits.substr(0, whole) + "." + digits.substr(whole);
  }
  const size_t first = out.find_first_not_of('0');
  if (first == std::string::npos || out[first] == '.') {
    out.erase(0, first == std::string::npos ? out.size() - 1 : first - 1);
  } else {
    out.erase(0, first);
  }
  if (negative && out.find_first_not_of("0.") != std::string::npos) {
    out.insert(out.begin(), '-');
  }
  return out;
}

// escape_json's rules: the usual short escapes, other control characters
// as \u00XX in lower case, everything else (UTF-8 too) as it is.
void AppendEscaped(std::string* out, const std::string& s) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      default:
        if (static_cast<unsigned char>(c) < ' ') {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<int>(c));
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendJsonb(std::string* out, const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::string:
      AppendEscaped(out, v.get_ref<const std::string&>());
      return;
    case nlohmann::json::value_t::number_float:
      out->append(NumericText(v.dump()));
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
      // jsonb keeps keys shorter first, equal lengths by their bytes.
      std::vector<const std::string*> keys;
      for (const auto& [key, item] : v.items()) keys.push_back(&key);
      std::sort(keys.begin(), keys.end(),
                [](const std::string* a, const std::string* b) {
                  return a->size() != b->size() ? a->size() < b->size()
                                                : *a < *b;
                });
      out->push_back('{');
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendEscaped(out, *keys[i]);
        out->append(": ");
        AppendJsonb(out, v.at(*keys[i]));
      }
      out->push_back('}');
      return;
    }
    default:  // null, booleans and integers print the same in both
      out->append(v.dump());
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
  return JsonbText(ExtraColumnsObject(row));
}

bool ExtrasMatch(absl::string_view a, absl::string_view b) {
  if (a == b) return true;
  const nlohmann::json x = WithoutNulls(a);
  const nlohmann::json y = WithoutNulls(b);
  return !x.is_discarded() && !y.is_discarded() && x == y;
}

}  // namespace tradestore::verify
