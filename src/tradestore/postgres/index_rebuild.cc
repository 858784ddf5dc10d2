// The backfill's closing stage: the deferred indexes built again, with
// their progress read from pg_stat_progress_create_index.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ostream>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/progress.h"
#include "tradestore/internal/side_by_side.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/backfill_writer.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {

double BuildFraction(const IndexBuildProgress& p) {
  // A B-tree build scans the table, sorts, then loads the sorted tuples;
  // the scan and the load report counts, the sort none. Weighted as they
  // take about the same time.
  auto part = [](int64_t done, int64_t total) {
    return total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0)
                     : 0.0;
  };
  if (absl::StartsWith(p.phase, "building index: scanning table")) {
    return 0.5 * part(p.blocks_done, p.blocks_total);
  }
  if (absl::StartsWith(p.phase, "building index: sorting")) return 0.5;
  if (absl::StartsWith(p.phase, "building index: loading")) {
    return 0.5 + 0.5 * part(p.tuples_done, p.tuples_total);
  }
  // Later phases (validation, waits) come after the build itself.
  if (absl::StartsWith(p.phase, "index validation") ||
      absl::StartsWith(p.phase, "waiting for readers") ||
      absl::StartsWith(p.phase, "waiting for old snapshots")) {
    return 1.0;
  }
  return 0.0;  // initializing, waiting for writers before the build
}

absl::StatusOr<std::vector<IndexBuildProgress>> ReadIndexBuilds(
    PgPool& pool, const std::string& table) {
  std::vector<IndexBuildProgress> builds;
  TS_RETURN_IF_ERROR(pg::ReadEach(pool, [&](pqxx::transaction_base& txn) {
    builds.clear();
    for (const auto& row : txn.exec_params(
             "SELECT phase, blocks_done, blocks_total, tuples_done, "
             "tuples_total FROM pg_stat_progress_create_index WHERE relid "
             "= to_regclass($1)",
             table)) {
      builds.push_back({row[0].as<std::string>(""), row[1].as<int64_t>(0),
                        row[2].as<int64_t>(0), row[3].as<int64_t>(0),
                        row[4].as<int64_t>(0)});
    }
    return absl::OkStatus();
  }));
  return builds;
}

namespace {

// The builders' shared state.
struct Builds {
  internal::Mutex mu;
  std::condition_variable all_ended;
  size_t next ABSL_GUARDED_BY(mu) = 0;   // the next index to build
  size_t ended ABSL_GUARDED_BY(mu) = 0;  // builds ended
  int left ABSL_GUARDED_BY(mu) = 0;      // builders still working
};

// Until every builder is done, shows the builds ended plus the parts of
// those running, in tuples (each build reads `rows`, `total` in all).
void ShowBuilds(PgPool& pool, Builds& builds, int64_t rows, int64_t total,
                Progress& progress) {
  int64_t shown = 0;
  for (;;) {
    double ended = 0;
    {
      internal::ScopedLock lock(builds.mu);
      if (builds.left == 0) return;
      ended = static_cast<double>(builds.ended);
    }
    // Only a figure: a failed read shows nothing new.
    auto running = ReadIndexBuilds(pool, "trades");
    double part = 0;
    if (running.ok()) {
      for (const auto& b : *running) part += BuildFraction(b);
    }
    // A build that ended between the two reads counts nowhere for a moment.
    shown =
        std::clamp(static_cast<int64_t>((ended + part) * rows), shown, total);
    progress.Update(shown);
    internal::ScopedLock lock(builds.mu);
    builds.mu.AwaitFor(builds.all_ended, std::chrono::milliseconds(500),
                       [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(builds.mu) {
                         return builds.left == 0;
                       });
  }
}

}  // namespace

absl::StatusOr<bool> BackfillWriter::RebuildIndex(const std::string& name) {
  bool built = false;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        built = false;
        // Server memory for the sort, for this transaction only.
        txn.exec("SET LOCAL maintenance_work_mem = '256MB'");
        const pqxx::result deferred = txn.exec_params(
            "SELECT definition, constraint_name IS NOT NULL FROM "
            "deferred_indexes "
            "WHERE name = $1 FOR UPDATE",
            name);
        if (deferred.empty()) return absl::OkStatus();  // another run built it
        // The definition is pg_get_indexdef's text, recorded with the drop;
        // IF NOT EXISTS in case someone built it by hand meanwhile.
        std::string sql = deferred[0][0].as<std::string>();
        for (const char* kind : {"CREATE INDEX ", "CREATE UNIQUE INDEX "}) {
          if (absl::StartsWith(sql, kind)) {
            sql.insert(std::strlen(kind), "IF NOT EXISTS ");
            break;
          }
        }
        txn.exec(sql);
        // The key's row stays, and with it the fence, until RestoreKey.
        if (!deferred[0][1].as<bool>()) {
          txn.exec_params("DELETE FROM deferred_indexes WHERE name = $1", name);
        }
        built = true;
        return absl::OkStatus();
      },
      PgPool::Kind::kWrite, pg::Bound::kNone));
  return built;
}

absl::StatusOr<std::vector<std::string>> BackfillWriter::RebuildIndexes(
    std::ostream& log, const FinishProgress& shown) {
  std::vector<std::string> names;
  TS_RETURN_IF_ERROR(pg::Transact(
      *pool_,
      [&](pqxx::work& txn) {
        names.clear();
        for (const auto& row :
             txn.exec("SELECT name FROM deferred_indexes ORDER BY name")) {
          names.push_back(row[0].as<std::string>());
        }
        return absl::OkStatus();
      },
      PgPool::Kind::kRead, pg::Bound::kNone));
  if (names.empty()) return names;
  // Each build reads every row: the stage's work is rows x indexes.
  const int64_t rows = std::max<int64_t>(1, known_.rows_copied);
  const auto total = static_cast<int64_t>(names.size()) * rows;
  Progress progress(log, "indexes", shown.tty, total,
                    shown.clock != nullptr ? shown.clock : pool_->clock(),
                    shown.interval);
  progress.set_unit("tuples");
  // Each index in its own transaction, two at a time: one sort per core
  // (CREATE INDEX takes a SHARE lock, which does not conflict with itself).
  // A third worker shows how far they are.
  Builds builds;
  {
    internal::ScopedLock lock(builds.mu);
    builds.left = 2;
  }
  std::vector<std::string> built;
  absl::Status failed;
  internal::RunSideBySide(3, [&](int worker) {
    if (worker == 2) return ShowBuilds(*pool_, builds, rows, total, progress);
    for (;;) {
      std::string name;
      {
        internal::ScopedLock lock(builds.mu);
        if (builds.next == names.size() || !failed.ok()) {
          if (--builds.left == 0) builds.all_ended.notify_all();
          return;
        }
        name = names[builds.next++];
      }
      auto done = RebuildIndex(name);
      internal::ScopedLock lock(builds.mu);
      ++builds.ended;
      if (!done.ok()) {
        failed.Update(done.status());
      } else if (*done) {
        built.push_back(name);
      }
    }
  });
  TS_RETURN_IF_ERROR(failed);
  progress.Finish(total);
  std::sort(built.begin(), built.end());
  return built;
}

}  // namespace tradestore
