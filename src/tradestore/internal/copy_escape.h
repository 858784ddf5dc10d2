// Escaping a value for Postgres's COPY text format exactly as COPY TO prints
// it (CopyAttributeOutText), which COPY FROM reads back: backslash and the
// six control characters with a letter escape, every other byte as is. Only
// ASCII bytes are touched, which is safe in UTF-8.
#ifndef TRADESTORE_INTERNAL_COPY_ESCAPE_H_
#define TRADESTORE_INTERNAL_COPY_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tradestore::internal {

// The letter escape of a control character that COPY text and JSON share
// (\b \f \n \r \t); nullptr for any other byte.
inline const char* ControlEscape(char c) {
  switch (c) {
    case '\b':
      return "\\b";
    case '\f':
      return "\\f";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

inline void AppendCopyEscaped(std::string* out, absl::string_view value) {
  for (char c : value) {
    if (const char* escape = ControlEscape(c)) {
      out->append(escape);
    } else if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\v') {
      out->append("\\v");
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_COPY_ESCAPE_H_
