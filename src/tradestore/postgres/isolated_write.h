// Writing a batch that Postgres refused for one of its rows: the rows are
// written again in parts under savepoints, a failing part halved until the
// single rows Postgres refuses are found, and those are returned for the
// quarantine with the server's reason, so one row never stops the backfill.
// Internal to the Postgres backend.
#ifndef TRADESTORE_POSTGRES_ISOLATED_WRITE_H_
#define TRADESTORE_POSTGRES_ISOLATED_WRITE_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tradestore/postgres/trade_copy.h"

namespace pqxx {
class dbtransaction;
}

namespace tradestore::pg {

// Writes rows [begin, end) of `rows` in `txn`, copied into trades or, with
// `staged`, into the backfill_stage table (created by the caller) and
// upserted by version. Rows Postgres refuses (SQLSTATE classes 22 and 23)
// are added to `refused`; other errors are thrown. Returns the rows
// written.
int64_t WriteIsolated(pqxx::dbtransaction& txn,
                      const std::vector<BackfillRow>& rows, size_t begin,
                      size_t end, bool staged,
                      std::vector<QuarantineRow>* refused);

}  // namespace tradestore::pg

#endif  // TRADESTORE_POSTGRES_ISOLATED_WRITE_H_
