// Legacy rows as JSON values, for the library's own code (an installed
// header would make nlohmann_json a dependency of every user).
#ifndef TRADESTORE_SQLITE_LEGACY_JSON_H_
#define TRADESTORE_SQLITE_LEGACY_JSON_H_

#include "nlohmann/json.hpp"
#include "tradestore/sqlite/legacy_row.h"

namespace tradestore {

// The unknown columns as a JSON object, values as StoredRowJson has them
// (an empty object when there are none); ExtraColumnsJson is its text.
nlohmann::json ExtraColumnsObject(const StoredRow& row);

// The stored value a JSON value of ExtraColumnsObject's came from: null,
// integers, numbers (REAL), strings (TEXT), {"$hex": ...} (a BLOB of those
// bytes), {"$real": "REAL inf"}. kInvalidArgument for anything else.
absl::StatusOr<SqlValue> SqlValueFromJson(const nlohmann::json& value);

}  // namespace tradestore

#endif  // TRADESTORE_SQLITE_LEGACY_JSON_H_
