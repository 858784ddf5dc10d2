// Escaping a value for Postgres's COPY text format exactly as COPY TO prints
// it (CopyAttributeOutText), which COPY FROM reads back: backslash and the
// six control characters with a letter escape, every other byte as is. Only
// ASCII bytes are touched, which is safe in UTF-8.
#ifndef TRADESTORE_INTERNAL_COPY_ESCAPE_H_
#define TRADESTORE_INTERNAL_COPY_ESCAPE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace tradestore::internal {

inline void AppendCopyEscaped(std::string* out, absl::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\v':
        out->append("\\v");
        break;
      default:
        out->push_back(c);
    }
  }
}

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_COPY_ESCAPE_H_
