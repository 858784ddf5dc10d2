#include "tradestore/internal/quote.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradestore::internal {
namespace {

// Length of the well-formed UTF-8 sequence at p (no overlong forms, no
// surrogates, at most U+10FFFF) and its code point; 0 when there is none.
size_t Utf8Sequence(const unsigned char* p, const unsigned char* end,
                    uint32_t* code) {
  const unsigned char c = p[0];
  size_t n;
  uint32_t cp;
  uint32_t min;
  if (c < 0x80) {
    *code = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code = cp;
  return n;
}

// Code points that move the cursor, end a line or reorder text on a
// terminal or in a log viewer.
bool Unsafe(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 ||
         cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0xFEFF;
}

void AppendEscaped(std::string* out, absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    uint32_t cp = 0;
    const size_t n = Utf8Sequence(p, end, &cp);
    if (n == 0) {
      absl::StrAppendFormat(out, "\\x%02x", *p);  // not UTF-8: the byte
      ++p;
      continue;
    }
    if (cp == '\\' || cp == '"') {
      out->push_back('\\');
      out->push_back(static_cast<char>(cp));
    } else if (cp == '\n') {
      out->append("\\n");
    } else if (cp == '\t') {
      out->append("\\t");
    } else if (cp == '\r') {
      out->append("\\r");
    } else if (cp < 0x20 || cp == 0x7F) {
      absl::StrAppendFormat(out, "\\x%02x", cp);
    } else if (Unsafe(cp)) {
      absl::StrAppendFormat(out, "\\u%04x", cp);
    } else {
      out->append(reinterpret_cast<const char*>(p), n);
    }
    p += n;
  }
}

}  // namespace

std::string Quote(absl::string_view value, size_t max_bytes) {
  std::string out = "\"";
  if (value.size() <= max_bytes) {
    AppendEscaped(&out, value);
    out.push_back('"');
    return out;
  }
  // Cut at a character boundary, so no sequence is shown half.
  size_t cut = max_bytes;
  while (cut > 0 && max_bytes - cut < 3 &&
         (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  AppendEscaped(&out, value.substr(0, cut));
  absl::StrAppend(&out, "...\" (", value.size(), " bytes)");
  return out;
}

std::string Escape(absl::string_view text) {
  std::string out;
  AppendEscaped(&out, text);
  return out;
}

}  // namespace tradestore::internal
