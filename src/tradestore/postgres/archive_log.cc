#include "tradestore/postgres/archive_log.h"

#include "tradestore/postgres/pg_transact.h"

namespace tradestore {

absl::Status RecordArchive(PgPool& pool, const ArchiveRecord& r) {
  return pg::Transact(pool, [&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO archives (source_store_id, path, file_sha256, row_count, "
        "exact_rows, min_id, max_id, content_sha256, postgres_content_sha256, "
        "verified) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        r.source_store_id, r.path, r.file_sha256, r.rows, r.exact_rows,
        r.min_id, r.max_id, r.content_sha256, r.postgres_content_sha256,
        r.verified);
    return absl::OkStatus();
  });
}

}  // namespace tradestore
