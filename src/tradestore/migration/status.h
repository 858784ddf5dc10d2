// `tradestore status`: one view of the migration and its operations for
// the operator at 3 a.m. and for the alerting: the schema, the phase (and
// whether the SQLite mirror agrees), the backfill and its fence, the
// outbox, the latest verifications, the quarantine, the archive, the
// latest backup and restore drill; each thing that needs attention listed
// with why. Only reads: the SQLite store is opened read-only.
//
// Thread-safety: a function.
#ifndef TRADESTORE_MIGRATION_STATUS_H_
#define TRADESTORE_MIGRATION_STATUS_H_

#include <chrono>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tradestore/migration/replication_status.h"
#include "tradestore/postgres/pg_options.h"
#include "tradestore/postgres/status_facts.h"
#include "tradestore/postgres/verification_log.h"
#include "tradestore/sqlite/store_facts.h"

namespace tradestore {

struct StatusOptions {
  std::string sqlite_path;  // "" = Postgres only
  PgOptions pg;
  // What counts as too old.
  std::chrono::hours max_backup_age{26};
  std::chrono::hours max_drill_age{8 * 24};
  std::chrono::hours max_full_verify_age{26};
  std::chrono::seconds max_outbox_age{60};
  ReplicationBounds replication;
  // The latest verification runs to read for the HTML page; 0 reads none.
  int history_runs = 0;
};

struct StatusReport {
  StatusFacts postgres;
  std::optional<SqliteStoreFacts> sqlite;
  int schema_built = 0;  // the version this build's migrations reach
  std::vector<std::string> attention;         // empty = healthy
  std::vector<VerificationRunPoint> history;  // StatusOptions::history_runs

  bool healthy() const { return attention.empty(); }
  // What Print shows besides replication: (what, value), in order.
  std::vector<std::pair<std::string, std::string>> Facts() const;
  std::string ToJson() const;
  std::string ToPrometheus() const;
  // One self-contained page (migration/status_html.cc).
  std::string ToHtml() const;
  void Print(std::ostream& out) const;
};

// kUnavailable and the like when it could not look.
absl::StatusOr<StatusReport> RunStatus(const StatusOptions& options);

}  // namespace tradestore

#endif  // TRADESTORE_MIGRATION_STATUS_H_
