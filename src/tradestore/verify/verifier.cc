// verify's run: open both stores, scan what the mode asks for, read again
// what may have been in flight, repair on request, and record the run.
#include "tradestore/verify/verifier.h"

#include <algorithm>
#include <iterator>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/failpoint.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_mirror.h"
#include "tradestore/postgres/quarantine_log.h"
#include "tradestore/postgres/verification_log.h"
#include "tradestore/verify/verifier_impl.h"

namespace tradestore {
namespace verify {
namespace {

// Trades of the outbox set aside to be read again at most.
constexpr size_t kMaxOutboxIds = 100000;

// Sorted, unique ids cut into stretches in id order: a run of kMinRun or
// more consecutive ids is read as a range (new trades come in runs; a range
// plans and runs in a fraction of the time of a list of its ids), the ids
// between runs as a list.
struct IdStretch {
  int64_t first = 0, last = 0;  // a run first..last, when list is empty
  std::vector<int64_t> list;
};

std::vector<IdStretch> CutIntoStretches(const std::vector<int64_t>& ids) {
  constexpr size_t kMinRun = 32;
  std::vector<IdStretch> out;
  for (size_t i = 0; i < ids.size();) {
    size_t end = i + 1;
    while (end < ids.size() && ids[end] == ids[end - 1] + 1) ++end;
    if (end - i >= kMinRun) {
      out.push_back({ids[i], ids[end - 1], {}});
    } else {
      if (out.empty() || out.back().list.empty()) out.emplace_back();
      out.back().list.insert(out.back().list.end(), ids.begin() + i,
                             ids.begin() + end);
    }
    i = end;
  }
  return out;
}

// The ids of `stretches` as a Postgres selection.
pg::IdSelection Selection(const std::vector<IdStretch>& stretches) {
  pg::IdSelection selection;
  for (const IdStretch& s : stretches) {
    if (s.list.empty()) {
      selection.ranges.emplace_back(s.first, s.last);
    } else {
      selection.ids.insert(selection.ids.end(), s.list.begin(), s.list.end());
    }
  }
  return selection;
}

}  // namespace

Verifier::Verifier(const VerifyOptions& options, std::ostream& log)
    : options_(options),
      log_(log),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()) {}

absl::Status Verifier::LoadQuarantine() {
  // Retried rows were re-imported and must be in Postgres; accepted and
  // unresolved ones stay out on purpose.
  TS_ASSIGN_OR_RETURN(const std::vector<int64_t> ids,
                      QuarantineLog(pool_.get()).KeptOut());
  comparer_->set_quarantined(
      absl::flat_hash_set<int64_t>(ids.begin(), ids.end()));
  return absl::OkStatus();
}

absl::Status Verifier::ReadIds(const std::vector<int64_t>& ids, Chunk& sqlite,
                               Chunk& postgres) {
  auto add = [&](const StoredRow& row) {
    sqlite.Add(row);
    return absl::OkStatus();
  };
  for (size_t i = 0; i < ids.size(); i += 5000) {
    const std::vector<IdStretch> stretches =
        CutIntoStretches(std::vector<int64_t>(
            ids.begin() + i, ids.begin() + std::min(ids.size(), i + 5000)));
    // SQLite is read while Postgres answers.
    absl::Status sqlite_read;
    std::thread sqlite_reader([&] {
      for (const IdStretch& s : stretches) {
        auto read = s.list.empty() ? sqlite_->ScanStoredRows(
                                         s.first - 1,
                                         static_cast<int>(s.last - s.first + 1),
                                         s.last, add)
                                   : sqlite_->ScanStoredRowsByIds(s.list, add);
        sqlite_read = read.status();
        if (!sqlite_read.ok()) return;
      }
    });
    Chunk rows;
    // On the pool's connection: a short read needs no server process of
    // its own.
    const absl::Status pg_read =
        pg::CopyOutTrades(*pool_, Selection(stretches), rows);
    sqlite_reader.join();
    TS_RETURN_IF_ERROR(sqlite_read);
    TS_RETURN_IF_ERROR(pg_read);
    postgres.Append(std::move(rows));
  }
  return absl::OkStatus();
}

absl::Status Verifier::ChangedRows(Timestamp since) {
  report_.since = since;
  // SQLite is read while Postgres answers.
  absl::StatusOr<std::vector<int64_t>> ids;
  std::thread sqlite_reader([&] { ids = sqlite_->ChangedIdsSince(since); });
  auto pg_ids = PgMirror(pool_.get()).ChangedIdsSince(since);
  sqlite_reader.join();
  TS_RETURN_IF_ERROR(ids.status());
  TS_RETURN_IF_ERROR(pg_ids.status());
  std::vector<int64_t> all;
  std::set_union(ids->begin(), ids->end(), pg_ids->begin(), pg_ids->end(),
                 std::back_inserter(all));
  for (size_t i = 0; i < all.size(); i += 20000) {
    const std::vector<int64_t> part(
        all.begin() + i, all.begin() + std::min(all.size(), i + 20000));
    Chunk s, p;
    TS_RETURN_IF_ERROR(ReadIds(part, s, p));
    report_.rows_sqlite += static_cast<int64_t>(s.rows.size());
    report_.rows_postgres += static_cast<int64_t>(p.rows.size());
    comparer_->Merge(s, p, /*final_pass=*/false);
  }
  if (!all.empty()) {
    report_.id_from = all.front();
    report_.id_to = all.back();
  }
  return absl::OkStatus();
}

absl::Status Verifier::LoadOutbox() {
  TS_ASSIGN_OR_RETURN(OutboxStatus status, sqlite_->GetOutboxStatus());
  report_.outbox_entries = status.entries;
  if (status.oldest) {
    report_.outbox_oldest_age_s = std::max<double>(
        0, (report_.started_at.unix_micros() - status.oldest->unix_micros()) /
               1e6);
  }
  if (status.entries == 0) return absl::OkStatus();
  outbox_through_ = status.last_seq;
  absl::flat_hash_set<int64_t> ids;
  for (int64_t after = 0; ids.size() < kMaxOutboxIds;) {
    TS_ASSIGN_OR_RETURN(OutboxBatch batch, sqlite_->ReadOutbox(10000, after));
    if (batch.entries.empty()) break;
    for (const OutboxEntry& e : batch.entries) ids.insert(e.trade_id);
    after = batch.last_seq;
  }
  comparer_->set_in_outbox(std::move(ids));
  return absl::OkStatus();
}

absl::Status Verifier::WaitForOutbox() {
  if (outbox_through_ == 0) return absl::OkStatus();
  if (options_.outbox_wait_started) options_.outbox_wait_started();
  const auto give_up = clock_->Monotonic() + options_.outbox_wait;
  for (;;) {
    TS_ASSIGN_OR_RETURN(OutboxStatus status, sqlite_->GetOutboxStatus());
    // Acks delete from the oldest up, so this means "applied through".
    if (status.entries == 0 || status.oldest_seq > outbox_through_) {
      return absl::OkStatus();
    }
    if (clock_->Monotonic() >= give_up) {
      log_ << "verify: the outbox still holds " << status.entries
           << " entries after " << options_.outbox_wait.count() / 1000.0
           << " s (is the relay running?); rows waiting in it are reported\n";
      return absl::OkStatus();
    }
    clock_->SleepFor(std::chrono::milliseconds(100));
  }
}

absl::Status Verifier::RecheckInFlight() {
  std::vector<int64_t> ids = comparer_->TakeInFlight();
  if (ids.empty()) return absl::OkStatus();
  // Wait until the newest of them is min_age old, then let the outbox drain.
  const int64_t wait_until =
      comparer_->newest_in_flight().unix_micros() + options_.min_age.count();
  const int64_t now = clock_->Now().unix_micros();
  if (wait_until > now) {
    clock_->SleepFor(std::chrono::microseconds(
        std::min<int64_t>(wait_until - now, options_.min_age.count())));
  }
  if (options_.before_recheck) {
    TS_RETURN_IF_ERROR(options_.before_recheck());
  } else {
    TS_RETURN_IF_ERROR(WaitForOutbox());
  }
  report_.rechecked_in_flight = static_cast<int64_t>(ids.size());
  Chunk s, p;
  TS_RETURN_IF_ERROR(ReadIds(ids, s, p));
  comparer_->Merge(s, p, /*final_pass=*/true);
  return absl::OkStatus();
}

absl::Status Verifier::Record() {
  const nlohmann::json summary =
      nlohmann::json::parse(report_.ToJson())["summary"];
  TS_ASSIGN_OR_RETURN(
      report_.run_id,
      VerificationLog(pool_.get())
          .Record({.source_store_id = sqlite_->store_id(),
                   .mode = VerifyModeName(report_.mode),
                   .started_at = report_.started_at,
                   .covers_all_rows = report_.covers_all_rows,
                   .id_from = report_.id_from,
                   .id_to = report_.id_to,
                   .changed_since = report_.since,
                   .rows_sqlite = report_.rows_sqlite,
                   .rows_postgres = report_.rows_postgres,
                   .missing_in_postgres = report_.missing_in_postgres,
                   .missing_in_sqlite = report_.missing_in_sqlite,
                   .mismatched = report_.mismatched,
                   .quarantined = report_.quarantined,
                   .clean = report_.clean(),
                   .repaired = report_.repaired,
                   .summary_json = summary.dump()}));
  return absl::OkStatus();
}

absl::Status Verifier::Open() {
  // A full scan reads SQLite on several threads; other modes on one.
  const bool whole_range =
      options_.mode == VerifyMode::kFull || options_.mode == VerifyMode::kIds;
  {
    // The SQLite file opens while the Postgres connection starts.
    absl::StatusOr<std::unique_ptr<SqliteTradeStore>> sqlite;
    std::thread sqlite_opener([&] {
      sqlite = SqliteTradeStore::Open(
          {.path = options_.sqlite_path,
           .create_if_missing = false,
           .require_trades_table = true,
           // Only a repair in postgres_only writes SQLite.
           .read_only = !options_.repair || options_.repair_dry_run,
           .reader_connections = whole_range ? kSqliteReaders : 1});
    });
    auto pool = PgPool::Create(options_.pg);
    sqlite_opener.join();
    TS_RETURN_IF_ERROR(sqlite.status());
    TS_RETURN_IF_ERROR(pool.status());
    sqlite_ = *std::move(sqlite);
    pool_ = *std::move(pool);
  }
  // A full scan's copy connections start (a server process each) while
  // the pool's connection reads the schema and the quarantine, and SQLite
  // its outbox. Other modes read through the pool's connection alone.
  absl::Status opened;
  std::thread opener;
  if (whole_range)
    opener = std::thread([&] { opened = OpenReaders(kPgLanes); });
  absl::Status outbox;
  std::thread outbox_reader([&] { outbox = LoadOutbox(); });
  absl::Status setup = EnsureMigrated(*pool_);
  if (setup.ok()) setup = LoadQuarantine();
  outbox_reader.join();
  if (opener.joinable()) opener.join();
  TS_RETURN_IF_ERROR(setup);
  TS_RETURN_IF_ERROR(outbox);
  return opened;
}

absl::Status Verifier::Incremental() {
  TS_ASSIGN_OR_RETURN(
      const std::optional<Timestamp> last_clean,
      VerificationLog(pool_.get()).LastCleanStart(sqlite_->store_id()));
  if (!last_clean) {
    log_ << "verify: no clean run recorded yet; running a full verify\n";
    report_.mode = VerifyMode::kFull;
    report_.covers_all_rows = true;
    return FullScan();
  }
  // Back by min_age: a write in flight when that run read its row.
  return ChangedRows(Timestamp::FromUnixMicros(last_clean->unix_micros() -
                                               options_.min_age.count())
                         .value_or(Timestamp()));
}

absl::StatusOr<VerifyReport> Verifier::Run() {
  const auto start = clock_->Monotonic();
  report_.mode = options_.mode;
  report_.source = options_.sqlite_path;
  report_.target = MaskDsn(options_.pg.dsn);
  report_.started_at = clock_->Now();
  report_.covers_all_rows = options_.mode == VerifyMode::kFull;
  comparer_.emplace(CompareOptions{.max_samples = options_.max_samples,
                                   .min_age = options_.min_age,
                                   .started_at = report_.started_at,
                                   .keep_differences = options_.repair},
                    &report_);
  TS_RETURN_IF_ERROR(Open());
  switch (options_.mode) {
    case VerifyMode::kFull:
    case VerifyMode::kIds:
      TS_RETURN_IF_ERROR(FullScan());
      break;
    case VerifyMode::kSince:
      TS_RETURN_IF_ERROR(ChangedRows(options_.since));
      break;
    case VerifyMode::kIncremental:
      TS_RETURN_IF_ERROR(Incremental());
      break;
  }
  TS_RETURN_IF_ERROR(RecheckInFlight());
  TS_RETURN_IF_ERROR(sqlite_->CheckUnchanged());
  if (options_.repair && !report_.clean()) TS_RETURN_IF_ERROR(Repair());
  report_.duration_s =
      std::chrono::duration<double>(clock_->Monotonic() - start).count();
  if (options_.record_run) {
    internal::Failpoint("verify.before_record");
    TS_RETURN_IF_ERROR(Record());
  }
  if (options_.history_runs > 0) {
    TS_ASSIGN_OR_RETURN(report_.history, VerificationLog(pool_.get())
                                             .History(sqlite_->store_id(),
                                                      options_.history_runs));
  }
  return report_;
}

}  // namespace verify

const char* VerifyModeName(VerifyMode mode) {
  switch (mode) {
    case VerifyMode::kFull:
      return "full";
    case VerifyMode::kIds:
      return "ids";
    case VerifyMode::kSince:
      return "since";
    case VerifyMode::kIncremental:
      return "incremental";
  }
  return "?";
}

bool MoneyTotal::matches() const {
  return count_sqlite == count_postgres &&
         quantity_sqlite == quantity_postgres &&
         notional_sqlite == notional_postgres;
}

bool VerifyReport::totals_match() const {
  return std::all_of(totals.begin(), totals.end(),
                     [](const MoneyTotal& t) { return t.matches(); });
}

absl::StatusOr<VerifyReport> RunVerify(const VerifyOptions& options,
                                       std::ostream& log) {
  verify::Verifier verifier(options, log);
  return verifier.Run();
}

}  // namespace tradestore
