// Quoting values from the data for human-facing output: error messages,
// summaries, the quarantine's reasons. A legacy store may hold anything, so
// a value is never echoed raw: control characters (ESC, CR, LF, C1), the
// Unicode line separators and bidirectional overrides are escaped, invalid
// UTF-8 is shown byte by byte, and a long value is cut with a marker that
// gives its full size.
//
// Thread-safety: pure functions.
#ifndef TRADESTORE_INTERNAL_QUOTE_H_
#define TRADESTORE_INTERNAL_QUOTE_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace tradestore::internal {

// Bytes of a value shown before it is cut.
constexpr size_t kQuoteMaxBytes = 64;

// `value` in double quotes, escaped as above ("a\x00b", "caf\u00e9" stays
// "café"), cut after `max_bytes` of input with `..." (N bytes)`.
std::string Quote(absl::string_view value, size_t max_bytes = kQuoteMaxBytes);

// The same without the quotes and without cutting: for text that is ours
// but may carry a value (a server's error message).
std::string Escape(absl::string_view text);

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_QUOTE_H_
