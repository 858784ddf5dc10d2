// Comparing a trade's legacy extra columns between the stores: in SQLite
// the columns tradestore does not know, in Postgres the jsonb column
// trades.extra the backfill and the relay fill from them
// (ExtraColumnsJson). Internal to the verifier.
#ifndef TRADESTORE_VERIFY_EXTRA_TEXT_H_
#define TRADESTORE_VERIFY_EXTRA_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tradestore/sqlite/legacy_row.h"

namespace tradestore::verify {

// The text Postgres prints for `value` stored as jsonb (jsonb_out, and
// jsonb_send after its version byte): keys shorter first, then by bytes;
// ", " and ": " between items; numbers as numeric prints them. So a
// SQLite row's extras usually compare with Postgres's as bytes.
std::string JsonbText(const nlohmann::json& value);

// JsonbText of the row's extra columns, or "" (SQL NULL) when it has none.
std::string ExtraJsonbText(const StoredRow& row);

// Whether two extras, each a JSON object's text or "" for NULL, hold the
// same legacy values. A key whose value is null is the same as no key (a
// row written by the new code has NULL in the legacy columns, and NULL
// for extra in Postgres); numbers compare by value, strings byte for byte.
bool ExtrasMatch(absl::string_view a, absl::string_view b);

}  // namespace tradestore::verify

#endif  // TRADESTORE_VERIFY_EXTRA_TEXT_H_
