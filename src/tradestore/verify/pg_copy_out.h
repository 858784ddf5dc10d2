// Streaming trades rows out of Postgres with COPY TO, in the verifier's
// canonical text (verify/row_text.h). Internal to the library.
#ifndef TRADESTORE_VERIFY_PG_COPY_OUT_H_
#define TRADESTORE_VERIFY_PG_COPY_OUT_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tradestore {
class PgPool;
}

namespace tradestore::verify {

// Streams `select` (a SELECT of kPgSelectColumns ordered by id) with COPY,
// calling `on_line` per row (without its newline) until it returns false.
// TimeZone and DateStyle are pinned so the text is the canonical form
// whatever the server's settings. `select` must hold no caller text.
absl::Status CopyOut(PgPool& pool, const std::string& select,
                     const std::function<bool(absl::string_view)>& on_line);

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_PG_COPY_OUT_H_
