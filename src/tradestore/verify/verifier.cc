#include "tradestore/verify/verifier.h"

#include <pqxx/pqxx>

#include <algorithm>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tradestore/internal/chunk_queue.h"
#include "tradestore/internal/ordered_queue.h"
#include "tradestore/internal/recycler.h"
#include "tradestore/sqlite/id_ranges.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/internal/progress.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/migrator.h"
#include "tradestore/postgres/pg_binary_copy.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_transact.h"
#include "tradestore/postgres/pg_row.h"
#include "tradestore/postgres/trade_copy.h"
#include "nlohmann/json.hpp"
#include "tradestore/sqlite/legacy_row.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/verify/extra_text.h"
#include "tradestore/verify/money_tally.h"
#include "tradestore/postgres/copy_out.h"
#include "tradestore/verify/repair_sqlite.h"
#include "tradestore/postgres/row_text.h"

namespace tradestore {
namespace {

using pg::AppendRowText;
using pg::CopyOutTrades;
using internal::ChunkQueue;
using internal::OrderedQueue;
using verify::MoneyTally;

// Postgres connections a full scan reads on (see FullScan).
constexpr int kPgLanes = 2;
// SQLite reader threads of a full scan: one cannot keep up with two
// Postgres lanes and the merge.
constexpr int kSqliteReaders = 2;

// One store's side of a row in a comparison: absent, a trade and its
// legacy extra columns (as jsonb prints them, "" for NULL), or a row that
// is not a valid trade (then `reason` says why).
struct Seen {
  bool present = false;
  const Trade* trade = nullptr;
  const std::string* extra = nullptr;  // set with trade
  absl::string_view reason;
};

// Rows of one store, in id order: each a trade with its extra, or why it
// is not one.
struct Chunk : pg::TradeSink {
  struct Row {
    int64_t id;
    int32_t trade;   // index into trades and extras, or -1
    int32_t reason;  // index into reasons when the row is unreadable, or -1
  };
  std::vector<Row> rows;
  std::vector<Trade> trades;
  std::vector<std::string> extras;
  std::vector<std::string> reasons;
  // A SQLite row, read by the backfill's rules.
  void Add(const StoredRow& row) {
    absl::StatusOr<Trade> trade = ConvertStoredRow(row, nullptr);
    if (!trade.ok()) {
      AddUnreadable(row.id, std::string(trade.status().message()));
      return;
    }
    const Slot slot = Next(row.id);
    *slot.trade = *std::move(trade);
    // Most stores have no legacy columns: extra stays NULL ("").
    if (!row.extra.empty()) *slot.extra = verify::ExtraJsonbText(row);
  }
  void AddUnreadable(int64_t id, std::string why) {
    rows.push_back({id, -1, static_cast<int32_t>(reasons.size())});
    reasons.push_back(std::move(why));
  }
  Slot Next(int64_t id) override {
    rows.push_back({id, static_cast<int32_t>(trades.size()), -1});
    return {&trades.emplace_back(), &extras.emplace_back()};
  }
  void Unreadable(int64_t id, const absl::Status& why) override {
    trades.pop_back();
    extras.pop_back();
    rows.back() = {id, -1, static_cast<int32_t>(reasons.size())};
    reasons.emplace_back(why.message());
  }
  // Empties the chunk, keeping its capacity.
  void Restart() override {
    rows.clear();
    trades.clear();
    extras.clear();
    reasons.clear();
  }
  void Append(Chunk&& other) {
    for (const Row& row : other.rows) {
      if (row.trade >= 0) {
        const Slot slot = Next(row.id);
        *slot.trade = std::move(other.trades[row.trade]);
        *slot.extra = std::move(other.extras[row.trade]);
      } else {
        AddUnreadable(row.id, std::move(other.reasons[row.reason]));
      }
    }
  }
  Seen At(const Row& row) const {
    if (row.trade < 0) return {true, nullptr, nullptr, reasons[row.reason]};
    return {true, &trades[row.trade], &extras[row.trade], {}};
  }
};

// A full scan's SQLite rows with each trade kept only as Postgres would
// send it (pg::AppendTradeRows), not also as a Trade: the merge compares
// bytes, and decodes a row back where it differs.
struct EncodedChunk {
  std::vector<Chunk::Row> rows;  // `trade` indexes ends
  std::vector<std::string> reasons;
  std::string encoded;
  std::vector<size_t> ends;  // trade i is encoded[ends[i - 1], ends[i])

  // Takes `read`'s rows and encodes its trades; `read` is left to be
  // restarted, with the capacity this chunk had.
  void Fill(Chunk& read) {
    rows.swap(read.rows);
    reasons.swap(read.reasons);
    encoded.clear();
    ends.clear();
    pg::AppendTradeRows(&encoded, read.trades, read.extras, &ends);
  }
  absl::string_view EncodedOf(const Chunk::Row& row) const {
    return pg::RowAt(encoded, ends, static_cast<size_t>(row.trade));
  }
};

void TallyTrade(const Trade& t, MoneyTally* tally) {
  tally->Add(t.symbol, SideName(t.side), t.quantity.units(), t.price.units());
}

void TallyTrades(const Chunk& chunk, MoneyTally* tally) {
  for (const Trade& t : chunk.trades) TallyTrade(t, tally);
}

std::string RowText(const Trade& t) {
  std::string line;
  AppendRowText(&line, t);
  return line;
}

// COPY takes no parameters; the ids are integers we print. One array
// literal parses and plans in a third of the time of an IN list of
// constants (1,000 ids: 1 ms against 3).
std::string IdArray(const std::vector<int64_t>& ids) {
  return absl::StrCat("'{", absl::StrJoin(ids, ","), "}'::int8[]");
}

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

// The WHERE condition selecting exactly the stretches' ids.
std::string StretchCondition(const std::vector<IdStretch>& stretches) {
  std::vector<std::string> terms;
  std::vector<int64_t> listed;
  for (const IdStretch& s : stretches) {
    if (s.list.empty()) {
      terms.push_back(absl::StrCat("id BETWEEN ", s.first, " AND ", s.last));
    } else {
      listed.insert(listed.end(), s.list.begin(), s.list.end());
    }
  }
  if (!listed.empty()) terms.push_back(absl::StrCat("id = ANY (", IdArray(listed), ")"));
  return absl::StrJoin(terms, " OR ");
}

class Verifier {
 public:
  Verifier(const VerifyOptions& options, std::ostream& log)
      : options_(options),
        log_(log),
        clock_(options.clock != nullptr ? options.clock : Clock::Real()) {}

  absl::StatusOr<VerifyReport> Run();

 private:
  enum class Kind { kMissingInPostgres, kMissingInSqlite, kMismatched };

  absl::Status LoadQuarantine();
  absl::Status FullScan();
  // The rows with ids of 0 and below, which FullScan's ranges (from 1) do
  // not reach: no trade has such an id, so each is a difference or a row the
  // backfill quarantined. Tallies their money as FullScan does.
  absl::Status NonPositiveIds(MoneyTally* sqlite_money,
                              MoneyTally* sqlite_unmatched,
                              MoneyTally* pg_unmatched);
  absl::Status ChangedRows(Timestamp since);
  // Reads the given ids (sorted) from both stores into chunks.
  absl::Status ReadIds(const std::vector<int64_t>& ids, Chunk& sqlite,
                       Chunk& postgres);
  // Compares two id-ordered chunks; `final_pass` reports every difference
  // instead of setting writes in flight aside.
  void Merge(const Chunk& sqlite, const Chunk& postgres, bool final_pass);
  // The same for a full scan's chunks: SQLite's encoded (EncodedChunk),
  // Postgres's as sent. Rows equal as bytes match; the others are decoded,
  // compared, and their trades tallied in the `unmatched` tallies.
  void MergeBytes(const EncodedChunk& sqlite, const pg::RawRows& postgres,
                  MoneyTally* sqlite_unmatched, MoneyTally* pg_unmatched);
  void CompareOne(int64_t id, const Seen& s, const Seen& p, bool final_pass);
  // A difference between the two sides of row `id`.
  void Report(Kind kind, int64_t id, const Seen& sqlite, const Seen& postgres);
  // Opens copy connections until there are `count`.
  absl::Status OpenReaders(int count);
  absl::Status LoadOutbox();
  absl::Status WaitForOutbox();
  absl::Status RecheckInFlight();
  absl::Status Repair();
  absl::Status Record();
  void FillTotals(const MoneyTally& sqlite, const MoneyTally& postgres);
  bool Quarantined(int64_t id) const { return quarantine_.contains(id); }

  const VerifyOptions& options_;
  std::ostream& log_;
  Clock* clock_;
  VerifyReport report_;
  std::unique_ptr<SqliteTradeStore> sqlite_;
  std::unique_ptr<PgPool> pool_;
  // The full scan's Postgres lanes (binary COPY, a connection each); short
  // reads go through the pool's connection.
  std::vector<std::unique_ptr<pg::BinaryCopyReader>> pg_readers_;
  absl::flat_hash_set<int64_t> quarantine_;
  std::vector<int64_t> in_flight_;
  // Trades with outbox entries when the run started, and the last seq then.
  absl::flat_hash_set<int64_t> outbox_ids_;
  int64_t outbox_through_ = 0;
  Timestamp newest_in_flight_;
  // Trades SQLite holds that the quarantine keeps out of Postgres.
  MoneyTally quarantined_money_;
  // Every difference, for --repair (samples in the report are capped).
  std::vector<std::pair<Kind, int64_t>> differences_;
};

const size_t kMaxInFlight = 100000;

absl::Status Verifier::LoadQuarantine() {
  // Retried rows were re-imported and must be in Postgres; accepted and
  // unresolved ones stay out on purpose.
  return pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
    quarantine_.clear();
    for (const auto& row :
         txn.exec("SELECT source_id FROM trades_quarantine "
                  "WHERE resolution IS DISTINCT FROM 'retried'")) {
      quarantine_.insert(row[0].as<int64_t>());
    }
    return absl::OkStatus();
  });
}

void Verifier::Report(Kind kind, int64_t id, const Seen& s, const Seen& p) {
  if (options_.repair) differences_.emplace_back(kind, id);
  const size_t cap = static_cast<size_t>(std::max(0, options_.max_samples));
  switch (kind) {
    case Kind::kMissingInPostgres:
      ++report_.missing_in_postgres;
      if (report_.missing_in_postgres_ids.size() < cap) {
        report_.missing_in_postgres_ids.push_back(id);
        report_.missing_in_postgres_reasons.emplace_back(s.reason);
      }
      return;
    case Kind::kMissingInSqlite:
      ++report_.missing_in_sqlite;
      if (report_.missing_in_sqlite_ids.size() < cap) {
        report_.missing_in_sqlite_ids.push_back(id);
      }
      return;
    case Kind::kMismatched: {
      ++report_.mismatched;
      if (report_.mismatches.size() >= cap) return;
      // Only here are rows formatted: in the canonical text, column by
      // column, or with the reason a side could not be read.
      RowMismatch m;
      m.id = id;
      if (s.trade == nullptr || p.trade == nullptr) {
        m.columns.emplace_back(s.trade == nullptr ? "(unreadable in SQLite)"
                                                  : "(unreadable in Postgres)");
        m.sqlite_values.push_back(s.trade != nullptr ? RowText(*s.trade)
                                                     : std::string(s.reason));
        m.postgres_values.push_back(p.trade != nullptr ? RowText(*p.trade)
                                                       : std::string(p.reason));
      } else {
        const std::string sqlite_line = RowText(*s.trade);
        const std::string pg_line = RowText(*p.trade);
        const auto a = pg::SplitFields(sqlite_line);
        const auto b = pg::SplitFields(pg_line);
        for (size_t i = 0; i < pg::kColumns.size(); ++i) {
          if (a[i] != b[i]) {
            m.columns.emplace_back(pg::kColumns[i]);
            m.sqlite_values.emplace_back(a[i]);
            m.postgres_values.emplace_back(b[i]);
          }
        }
        if (!verify::ExtrasMatch(*s.extra, *p.extra)) {
          // As jsonb prints them; \N for NULL, as the columns above.
          auto text = [](const std::string& e) { return e.empty() ? "\\N" : e; };
          m.columns.emplace_back("extra");
          m.sqlite_values.push_back(text(*s.extra));
          m.postgres_values.push_back(text(*p.extra));
        }
      }
      report_.mismatches.push_back(std::move(m));
      return;
    }
  }
}

void Verifier::CompareOne(int64_t id, const Seen& s, const Seen& p,
                          bool final_pass) {
  const Trade* st = s.trade;
  const Trade* pt = p.trade;
  // Quarantined by the backfill: a row the legacy rules refuse, or one they
  // read but Postgres refused (its money is left out of SQLite's totals).
  if (s.present && !p.present && Quarantined(id)) {
    if (st != nullptr) TallyTrade(*st, &quarantined_money_);
    ++report_.quarantined;
    if (report_.quarantined_ids.size() <
        static_cast<size_t>(std::max(0, options_.max_samples))) {
      report_.quarantined_ids.push_back(id);
    }
    return;
  }
  if (st != nullptr && pt != nullptr && *st == *pt &&
      verify::ExtrasMatch(*s.extra, *p.extra)) {
    ++report_.rows_matching;
    return;
  }
  if (!final_pass && outbox_ids_.contains(id) &&
      in_flight_.size() < kMaxInFlight) {
    in_flight_.push_back(id);  // still on its way through the outbox
    return;
  }
  if (!final_pass && (st != nullptr || pt != nullptr)) {
    // A row written or changed within min_age may still be on its way.
    Timestamp latest;
    for (const Trade* t : {st, pt}) {
      if (t != nullptr) latest = std::max(latest, t->updated_at);
    }
    const Timestamp horizon = Timestamp::FromUnixMicros(
        report_.started_at.unix_micros() - options_.min_age.count())
        .value_or(Timestamp());
    if (latest >= horizon && in_flight_.size() < kMaxInFlight) {
      in_flight_.push_back(id);
      newest_in_flight_ = std::max(newest_in_flight_, latest);
      return;
    }
  }
  if (!s.present) {
    Report(Kind::kMissingInSqlite, id, s, p);
  } else if (!p.present) {
    Report(Kind::kMissingInPostgres, id, s, p);
  } else {
    Report(Kind::kMismatched, id, s, p);
  }
}

void Verifier::Merge(const Chunk& sqlite, const Chunk& postgres,
                     bool final_pass) {
  size_t i = 0, j = 0;
  const auto& a = sqlite.rows;
  const auto& b = postgres.rows;
  while (i < a.size() || j < b.size()) {
    if (j >= b.size() || (i < a.size() && a[i].id < b[j].id)) {
      CompareOne(a[i].id, sqlite.At(a[i]), {}, final_pass);
      ++i;
    } else if (i >= a.size() || b[j].id < a[i].id) {
      CompareOne(b[j].id, {}, postgres.At(b[j]), final_pass);
      ++j;
    } else {
      CompareOne(a[i].id, sqlite.At(a[i]), postgres.At(b[j]), final_pass);
      ++i;
      ++j;
    }
  }
}

void Verifier::MergeBytes(const EncodedChunk& sqlite,
                          const pg::RawRows& postgres,
                          MoneyTally* sqlite_unmatched,
                          MoneyTally* pg_unmatched) {
  const auto& a = sqlite.rows;
  const auto& b = postgres.ids;
  Trade sqlite_trade, pg_trade;
  std::string sqlite_extra, pg_extra, sqlite_why, pg_why;
  // A row's side as Seen: decoded from its bytes, or why it is no trade.
  auto decode = [](absl::string_view bytes, Trade& trade, std::string& extra,
                   std::string& why, Seen& seen) {
    seen.present = true;
    if (absl::Status st = pg::DecodeRawTrade(bytes, trade, extra);
        st.ok()) {
      seen.trade = &trade;
      seen.extra = &extra;
    } else {
      why = std::string(st.message());
      seen.reason = why;
    }
  };
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    const bool in_sqlite = i < a.size() && (j >= b.size() || a[i].id <= b[j]);
    const bool in_pg = j < b.size() && (i >= a.size() || b[j] <= a[i].id);
    if (in_sqlite && in_pg && a[i].trade >= 0 &&
        sqlite.EncodedOf(a[i]) == postgres.row(j)) {
      ++report_.rows_matching;
      ++i;
      ++j;
      continue;
    }
    // Rare: a difference, or a row Postgres sends in another form.
    Seen s, p;
    if (in_sqlite && a[i].trade >= 0) {
      // Our own encoding: it decodes back to exactly the trade read.
      decode(sqlite.EncodedOf(a[i]), sqlite_trade, sqlite_extra, sqlite_why, s);
    } else if (in_sqlite) {
      s = {true, nullptr, nullptr, sqlite.reasons[a[i].reason]};
    }
    if (in_pg) decode(postgres.row(j), pg_trade, pg_extra, pg_why, p);
    if (s.trade != nullptr) TallyTrade(*s.trade, sqlite_unmatched);
    if (p.trade != nullptr) TallyTrade(*p.trade, pg_unmatched);
    CompareOne(in_sqlite ? a[i].id : b[j], s, p, /*final_pass=*/false);
    if (in_sqlite) ++i;
    if (in_pg) ++j;
  }
}

absl::Status Verifier::FullScan() {
  TS_ASSIGN_OR_RETURN(const int64_t max_id, sqlite_->MaxId());
  const int64_t from = options_.mode == VerifyMode::kIds ? options_.id_from : 1;
  const int64_t to = options_.mode == VerifyMode::kIds ? options_.id_to
                                                       : INT64_MAX;
  report_.id_from = from;
  report_.id_to = options_.mode == VerifyMode::kIds ? to
                                                    : std::max<int64_t>(0, max_id);
  const int batch = std::max(1000, options_.batch_rows);

  // SQLite is read on kSqliteReaders threads side by side, each taking the
  // next id range of `batch` rows (IdRanges); Postgres reads the same ranges
  // on kPgLanes connections, range k on lane k % kPgLanes, so the work of
  // both stores spreads over the cores. The merge takes chunks in id order.
  // Opened by Run, unless an incremental run with no clean run before it
  // fell back to this scan.
  TS_RETURN_IF_ERROR(OpenReaders(kPgLanes));
  using Range = std::pair<int64_t, int64_t>;  // after, last
  OrderedQueue<std::pair<EncodedChunk, int64_t>> sqlite_chunks(kSqliteReaders);
  std::vector<std::unique_ptr<ChunkQueue<Range>>> ranges;
  std::vector<std::unique_ptr<ChunkQueue<pg::RawRows>>> pg_chunks;
  for (int lane = 0; lane < kPgLanes; ++lane) {
    ranges.push_back(std::make_unique<ChunkQueue<Range>>(64));
    pg_chunks.push_back(std::make_unique<ChunkQueue<pg::RawRows>>(1));
  }
  std::vector<MoneyTally> sqlite_money(kSqliteReaders + 1);
  MoneyTally sqlite_unmatched, pg_unmatched;
  if (options_.mode == VerifyMode::kFull) {
    TS_RETURN_IF_ERROR(NonPositiveIds(&sqlite_money[kSqliteReaders],
                                      &sqlite_unmatched, &pg_unmatched));
  }

  // The last range reaches to `to`, so rows Postgres has beyond SQLite's
  // last id are seen too.
  IdRanges planner(*sqlite_, from - 1, to, batch, /*reach_end=*/true);
  // The merge hands the chunks it is done with back to the readers. Keeping
  // one of each freed the rest and faulted fresh pages in for them: 19,200
  // page faults per 1M rows with one, 9,600 with four (the working set's
  // first touch; eight keep no fewer).
  internal::Recycler<EncodedChunk> spare_chunks(4);
  internal::Recycler<pg::RawRows> spare_rows(4);
  auto read_sqlite = [&](MoneyTally& money) -> absl::Status {
    Chunk chunk;  // read into, then encoded into a chunk for the merge
    chunk.trades.reserve(batch);
    for (;;) {
      TS_ASSIGN_OR_RETURN(
          const auto range, planner.Next([&](const IdRanges::Range& r) {
            ranges[r.seq % kPgLanes]->Push({r.after_id, r.last_id});
          }));
      if (!range) return absl::OkStatus();
      chunk.Restart();
      TS_RETURN_IF_ERROR(
          sqlite_
              ->ScanStoredRows(range->after_id, batch, range->last_id,
                               [&](const StoredRow& row) {
                                 chunk.Add(row);
                                 return absl::OkStatus();
                               })
              .status());
      TallyTrades(chunk, &money);
      EncodedChunk encoded = spare_chunks.Take();
      encoded.Fill(chunk);
      if (!sqlite_chunks.Push(range->seq,
                              {std::move(encoded), range->last_id})) {
        return absl::OkStatus();
      }
    }
  };
  std::thread sqlite_thread([&] {
    const absl::Status status = internal::RunProducers(
        kSqliteReaders, sqlite_chunks,
        [&](int r) { return read_sqlite(sqlite_money[r]); });
    for (auto& r : ranges) r->Close(status);
    sqlite_chunks.Close(status);
  });

  std::vector<std::thread> pg_threads;
  for (int lane = 0; lane < kPgLanes; ++lane) {
    pg_threads.emplace_back([&, lane] {
      absl::Status status;
      while (auto range = ranges[lane]->Pop()) {
        // Kept as sent: compared as bytes, decoded only where they differ.
        pg::RawRows rows = spare_rows.Take();
        // Room for rows of the usual size up front: growing by doubling
        // would leave each chunk with up to twice the room it needs.
        rows.bytes.reserve(static_cast<size_t>(batch) * 192);
        rows.ids.reserve(static_cast<size_t>(batch));
        rows.ends.reserve(static_cast<size_t>(batch));
        status = pg::CopyOutRawRows(
            *pg_readers_[lane],
            absl::StrCat("SELECT ", pg::kPgVerifyColumns,
                         " FROM trades WHERE id > ", range->first,
                         " AND id <= ", range->second, " ORDER BY id"),
            rows);
        if (!status.ok()) break;
        if (!pg_chunks[lane]->Push(std::move(rows))) break;
      }
      if (status.ok()) status = ranges[lane]->status();
      pg_chunks[lane]->Close(status);
    });
  }

  Progress progress(log_, "verify", options_.progress_tty,
                    std::max<int64_t>(0, report_.id_to - from + 1), clock_,
                    options_.log_interval);
  int64_t done = 0;
  for (int64_t k = 0;; ++k) {
    auto s = sqlite_chunks.Pop();
    auto p = pg_chunks[k % kPgLanes]->Pop();
    if (!s || !p) break;
    report_.rows_sqlite += static_cast<int64_t>(s->first.rows.size());
    report_.rows_postgres += static_cast<int64_t>(p->size());
    MergeBytes(s->first, *p, &sqlite_unmatched, &pg_unmatched);
    spare_chunks.Give(std::move(s->first));
    spare_rows.Give(*std::move(p));
    done = std::min(report_.id_to, s->second) - from + 1;
    progress.Update(done);
  }
  sqlite_chunks.Stop();
  for (int lane = 0; lane < kPgLanes; ++lane) {
    pg_chunks[lane]->Stop();
    ranges[lane]->Stop();
  }
  sqlite_thread.join();
  for (std::thread& t : pg_threads) t.join();
  TS_RETURN_IF_ERROR(sqlite_chunks.status());
  for (auto& q : pg_chunks) TS_RETURN_IF_ERROR(q->status());
  progress.Finish(done);
  for (size_t r = 1; r < sqlite_money.size(); ++r) {
    sqlite_money[0].Merge(sqlite_money[r]);
  }
  // Rows equal as bytes hold the same money in both stores: Postgres's
  // totals are SQLite's, less its rows that did not match, plus Postgres's.
  MoneyTally pg_money = sqlite_money[0];
  pg_money.Subtract(sqlite_unmatched);
  pg_money.Merge(pg_unmatched);
  sqlite_money[0].Subtract(quarantined_money_);
  FillTotals(sqlite_money[0], pg_money);
  return absl::OkStatus();
}

absl::Status Verifier::NonPositiveIds(MoneyTally* sqlite_money,
                                      MoneyTally* sqlite_unmatched,
                                      MoneyTally* pg_unmatched) {
  const int batch = std::max(1000, options_.batch_rows);
  for (int64_t first = INT64_MIN;;) {
    Chunk sqlite, postgres;
    TS_ASSIGN_OR_RETURN(const int64_t count,
                        sqlite_->ScanStoredRowsBetween(
                            first, 0, batch, [&](const StoredRow& row) {
                              sqlite.Add(row);
                              return absl::OkStatus();
                            }));
    // A full chunk ends at its last row; the last chunk reaches 0.
    const int64_t last = count == batch ? sqlite.rows.back().id : 0;
    TS_RETURN_IF_ERROR(CopyOutTrades(
        *pool_,
        absl::StrCat("SELECT ", pg::kPgVerifyColumns,
                     " FROM trades WHERE id >= ", first, " AND id <= ", last,
                     " ORDER BY id"),
        postgres));
    for (const Chunk* chunk : {&sqlite, &postgres}) {
      if (!chunk->rows.empty()) {
        report_.id_from = std::min(report_.id_from, chunk->rows.front().id);
      }
    }
    report_.rows_sqlite += static_cast<int64_t>(sqlite.rows.size());
    report_.rows_postgres += static_cast<int64_t>(postgres.rows.size());
    Merge(sqlite, postgres, /*final_pass=*/false);
    // Counted as unmatched on both sides, as a row that differs would be.
    TallyTrades(sqlite, sqlite_money);
    TallyTrades(sqlite, sqlite_unmatched);
    TallyTrades(postgres, pg_unmatched);
    if (last == 0) return absl::OkStatus();
    first = last + 1;
  }
}

absl::Status Verifier::ReadIds(const std::vector<int64_t>& ids, Chunk& sqlite,
                               Chunk& postgres) {
  auto add = [&](const StoredRow& row) {
    sqlite.Add(row);
    return absl::OkStatus();
  };
  for (size_t i = 0; i < ids.size(); i += 5000) {
    const std::vector<IdStretch> stretches = CutIntoStretches(std::vector<int64_t>(
        ids.begin() + i, ids.begin() + std::min(ids.size(), i + 5000)));
    // SQLite is read while Postgres answers.
    absl::Status sqlite_read;
    std::thread sqlite_reader([&] {
      for (const IdStretch& s : stretches) {
        auto read = s.list.empty()
                        ? sqlite_->ScanStoredRows(
                              s.first - 1, static_cast<int>(s.last - s.first + 1),
                              s.last, add)
                        : sqlite_->ScanStoredRowsByIds(s.list, add);
        sqlite_read = read.status();
        if (!sqlite_read.ok()) return;
      }
    });
    Chunk rows;
    // On the pool's connection: a short read needs no server process of
    // its own.
    const absl::Status pg_read = CopyOutTrades(
        *pool_,
        absl::StrCat("SELECT ", pg::kPgVerifyColumns, " FROM trades WHERE ",
                     StretchCondition(stretches), " ORDER BY id"),
        rows);
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
  std::vector<int64_t> pg_ids;
  const absl::Status pg_read =
      pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
        pg_ids.clear();
        for (const auto& row :
             txn.exec_params("SELECT id FROM trades WHERE updated_at >= "
                             "$1::timestamptz ORDER BY id",
                             since.ToIso8601())) {
          pg_ids.push_back(row[0].as<int64_t>());
        }
        return absl::OkStatus();
      });
  sqlite_reader.join();
  TS_RETURN_IF_ERROR(ids.status());
  TS_RETURN_IF_ERROR(pg_read);
  std::vector<int64_t> all;
  std::set_union(ids->begin(), ids->end(), pg_ids.begin(), pg_ids.end(),
                 std::back_inserter(all));
  for (size_t i = 0; i < all.size(); i += 20000) {
    const std::vector<int64_t> part(
        all.begin() + i, all.begin() + std::min(all.size(), i + 20000));
    Chunk s, p;
    TS_RETURN_IF_ERROR(ReadIds(part, s, p));
    report_.rows_sqlite += static_cast<int64_t>(s.rows.size());
    report_.rows_postgres += static_cast<int64_t>(p.rows.size());
    Merge(s, p, /*final_pass=*/false);
  }
  if (!all.empty()) {
    report_.id_from = all.front();
    report_.id_to = all.back();
  }
  return absl::OkStatus();
}

absl::Status Verifier::OpenReaders(int count) {
  while (static_cast<int>(pg_readers_.size()) < count) {
    TS_ASSIGN_OR_RETURN(auto reader, pg::BinaryCopyReader::Open(*pool_));
    pg_readers_.push_back(std::move(reader));
  }
  return absl::OkStatus();
}

absl::Status Verifier::LoadOutbox() {
  TS_ASSIGN_OR_RETURN(OutboxStatus status, sqlite_->GetOutboxStatus());
  if (status.entries == 0) return absl::OkStatus();
  outbox_through_ = status.last_seq;
  for (int64_t after = 0; outbox_ids_.size() < kMaxInFlight;) {
    TS_ASSIGN_OR_RETURN(OutboxBatch batch, sqlite_->ReadOutbox(10000, after));
    if (batch.entries.empty()) break;
    for (const OutboxEntry& e : batch.entries) outbox_ids_.insert(e.trade_id);
    after = batch.last_seq;
  }
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
  if (in_flight_.empty()) return absl::OkStatus();
  // Wait until the newest of them is min_age old, then let the outbox drain.
  const int64_t wait_until =
      newest_in_flight_.unix_micros() + options_.min_age.count();
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
  std::vector<int64_t> ids = std::move(in_flight_);
  in_flight_.clear();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  report_.rechecked_in_flight = static_cast<int64_t>(ids.size());
  Chunk s, p;
  TS_RETURN_IF_ERROR(ReadIds(ids, s, p));
  Merge(s, p, /*final_pass=*/true);
  return absl::OkStatus();
}

void Verifier::FillTotals(const MoneyTally& sqlite, const MoneyTally& postgres) {
  report_.totals_computed = true;
  std::map<std::pair<std::string, std::string>, MoneyTotal> merged;
  auto fill = [&](const MoneyTally& tally, bool is_sqlite) {
    for (const auto& [key, sum] : tally.sums()) {
      MoneyTotal& t = merged[key];
      t.symbol = key.first;
      t.side = key.second;
      const std::string qty =
          sum.overflow ? "overflow" : verify::ScaledToString(sum.quantity, 8);
      const std::string notional =
          sum.overflow ? "overflow" : verify::ScaledToString(sum.notional, 16);
      if (is_sqlite) {
        t.count_sqlite = sum.count;
        t.quantity_sqlite = qty;
        t.notional_sqlite = notional;
      } else {
        t.count_postgres = sum.count;
        t.quantity_postgres = qty;
        t.notional_postgres = notional;
      }
    }
  };
  fill(sqlite, true);
  fill(postgres, false);
  for (auto& [key, total] : merged) {
    for (std::string* s : {&total.quantity_sqlite, &total.quantity_postgres}) {
      if (s->empty()) *s = verify::ScaledToString(0, 8);
    }
    for (std::string* s : {&total.notional_sqlite, &total.notional_postgres}) {
      if (s->empty()) *s = verify::ScaledToString(0, 16);
    }
    report_.totals.push_back(std::move(total));
  }
}

constexpr size_t kMaxRepairLog = 1000;

absl::Status Verifier::Repair() {
  // The source of truth follows the phase: SQLite until reads move.
  std::string phase;
  TS_RETURN_IF_ERROR(pg::Transact(*pool_, 
      [&](pqxx::work& txn) {
        phase = txn.exec("SELECT phase FROM migration_phase")[0][0]
                    .as<std::string>();
        return absl::OkStatus();
      },
      PgPool::Kind::kRead));
  auto note = [&](std::string line) {
    if (report_.repair_log.size() < kMaxRepairLog) {
      report_.repair_log.push_back(std::move(line));
    }
  };
  // SQLite stays the source of truth while it is written first (through
  // read_postgres); from postgres_only on Postgres is.
  if (phase == "archived") {
    return absl::FailedPreconditionError(
        "the phase is archived: the SQLite file is archived and is not "
        "repaired (nothing was changed)");
  }
  if (phase == "postgres_only") {
    std::vector<int64_t> ids;
    for (const auto& [kind, id] : differences_) ids.push_back(id);
    std::vector<std::string> lines;
    TS_ASSIGN_OR_RETURN(
        int64_t changed,
        verify::RepairSqliteFromPostgres(*sqlite_, *pool_, ids, &lines));
    report_.repaired += changed;
    for (std::string& line : lines) note(std::move(line));
    return absl::OkStatus();
  }
  for (const auto& [kind, id] : differences_) {
    TS_ASSIGN_OR_RETURN(auto rows, sqlite_->ScanStoredRows(id - 1, 1, id));
    if (rows.empty()) {
      // Only in Postgres: never deleted silently, moved to quarantine.
      bool moved = false;
      TS_RETURN_IF_ERROR(pg::Transact(*pool_, [&](pqxx::work& txn) {
        moved = !txn.exec_params(
                        "WITH moved AS (DELETE FROM trades WHERE id = $1 "
                        "RETURNING *) INSERT INTO trades_quarantine "
                        "(source_id, reason, raw) SELECT id, $2, "
                        "to_jsonb(moved) FROM moved ON CONFLICT (source_id) "
                        "DO UPDATE SET reason = EXCLUDED.reason, "
                        "raw = EXCLUDED.raw, last_seen_at = now(), "
                        "resolution = NULL RETURNING source_id",
                        id,
                        "repair: in Postgres but not in SQLite, the source "
                        "of truth")
                     .empty();
        return absl::OkStatus();
      }));
      if (moved) {
        ++report_.repaired;
        note(absl::StrCat("moved Postgres row ", id,
                          " to trades_quarantine (not in SQLite)"));
      }
      continue;
    }
    auto trade = ConvertStoredRow(rows[0], nullptr);
    if (!trade.ok()) {
      // Cannot be copied exactly: quarantined as the backfill would, with
      // any Postgres row of that id kept beside it.
      const std::string reason(trade.status().message());
      TS_RETURN_IF_ERROR(pg::Transact(*pool_, [&](pqxx::work& txn) {
        txn.exec_params(
            "INSERT INTO trades_quarantine (source_id, reason, raw) "
            "SELECT $1, $2, CASE WHEN t.id IS NULL THEN $3::jsonb ELSE "
            "$3::jsonb || jsonb_build_object('postgres_row', to_jsonb(t)) END "
            "FROM (SELECT 1) one LEFT JOIN trades t ON t.id = $1 "
            "ON CONFLICT (source_id) DO UPDATE SET reason = EXCLUDED.reason, "
            "raw = EXCLUDED.raw, last_seen_at = now(), resolution = NULL",
            id, reason, StoredRowJson(rows[0]));
        txn.exec_params("DELETE FROM trades WHERE id = $1", id);
        return absl::OkStatus();
      }));
      ++report_.repaired;
      note(absl::StrCat("quarantined SQLite row ", id, ": ", reason));
      continue;
    }
    bool written = false;
    pg::Params params = pg::InsertParams(*trade);
    // The legacy columns as the backfill keeps them (NULL when none).
    const std::string extra = ExtraColumnsJson(rows[0]);
    params.push_back(extra.empty() ? std::nullopt
                                   : std::optional<std::string>(extra));
    TS_RETURN_IF_ERROR(pg::Transact(*pool_, [&](pqxx::work& txn) {
      // Version-guarded: a newer Postgres row is reported, not overwritten.
      written = !pg::Exec(
                     txn,
                     "INSERT INTO trades (id, symbol, side, quantity, price, "
                     "\"timestamp\", status, client_order_id, fee, version, "
                     "created_at, updated_at, extra) VALUES ($1, $2, $3, "
                     "$4::numeric, $5::numeric, $6::timestamptz, $7, $8, "
                     "$9::numeric, $10, $11::timestamptz, $12::timestamptz, "
                     "$13::jsonb) "
                     "ON CONFLICT (id) DO UPDATE SET symbol = EXCLUDED.symbol, "
                     "side = EXCLUDED.side, quantity = EXCLUDED.quantity, "
                     "price = EXCLUDED.price, \"timestamp\" = "
                     "EXCLUDED.\"timestamp\", status = EXCLUDED.status, "
                     "client_order_id = EXCLUDED.client_order_id, "
                     "fee = EXCLUDED.fee, version = EXCLUDED.version, "
                     "created_at = EXCLUDED.created_at, "
                     "updated_at = EXCLUDED.updated_at, "
                     "extra = EXCLUDED.extra "
                     "WHERE trades.version <= EXCLUDED.version RETURNING id",
                     params)
                     .empty();
      return absl::OkStatus();
    }));
    if (written) {
      ++report_.repaired;
      note(absl::StrCat(kind == Kind::kMissingInPostgres ? "copied" : "rewrote",
                        " row ", id, " from SQLite into Postgres"));
    } else {
      note(absl::StrCat("left row ", id,
                        ": Postgres holds a newer version than SQLite"));
    }
  }
  return absl::OkStatus();
}

absl::Status Verifier::Record() {
  const nlohmann::json summary = nlohmann::json::parse(report_.ToJson())["summary"];
  return pg::Transact(*pool_, [&](pqxx::work& txn) {
    const pg::Params params = {
        sqlite_->store_id(),
        std::string(VerifyModeName(report_.mode)),
        report_.started_at.ToIso8601(),
        report_.covers_all_rows ? "true" : "false",
        std::to_string(report_.id_from),
        std::to_string(report_.id_to),
        report_.since ? std::optional<std::string>(report_.since->ToIso8601())
                      : std::nullopt,
        std::to_string(report_.rows_sqlite),
        std::to_string(report_.rows_postgres),
        std::to_string(report_.missing_in_postgres),
        std::to_string(report_.missing_in_sqlite),
        std::to_string(report_.mismatched),
        std::to_string(report_.quarantined),
        report_.clean() ? "true" : "false",
        std::to_string(report_.repaired),
        summary.dump()};
    const pqxx::result r = pg::Exec(
        txn,
        "INSERT INTO verification_runs (source_store_id, mode, started_at, "
        "covers_all_rows, id_from, id_to, changed_since, rows_sqlite, "
        "rows_postgres, missing_in_postgres, missing_in_sqlite, mismatched, "
        "quarantined, clean, repaired, summary) VALUES ($1, $2, "
        "$3::timestamptz, $4::boolean, $5, $6, $7::timestamptz, $8, $9, $10, "
        "$11, $12, $13, $14::boolean, $15, $16::jsonb) RETURNING id",
        params);
    report_.run_id = r[0][0].as<int64_t>();
    return absl::OkStatus();
  });
}

absl::StatusOr<VerifyReport> Verifier::Run() {
  const auto start = clock_->Monotonic();
  report_.mode = options_.mode;
  report_.source = options_.sqlite_path;
  report_.target = MaskDsn(options_.pg.dsn);
  report_.started_at = clock_->Now();
  report_.covers_all_rows = options_.mode == VerifyMode::kFull;
  // A full scan reads SQLite on several threads; other modes on one.
  const bool whole_range = options_.mode == VerifyMode::kFull ||
                           options_.mode == VerifyMode::kIds;
  {
    // The SQLite file opens while the Postgres connection starts.
    absl::StatusOr<std::unique_ptr<SqliteTradeStore>> sqlite;
    std::thread sqlite_opener([&] {
      sqlite = SqliteTradeStore::Open(
          {.path = options_.sqlite_path,
           .create_if_missing = false,
           .require_trades_table = true,
           .reader_connections = whole_range ? kSqliteReaders : 1});
    });
    auto pool = PgPool::Create(options_.pg);
    sqlite_opener.join();
    TS_RETURN_IF_ERROR(sqlite.status());
    TS_RETURN_IF_ERROR(pool.status());
    sqlite_ = *std::move(sqlite);
    pool_ = *std::move(pool);
  }
  {
    // A full scan's copy connections start (a server process each) while
    // the pool's connection reads the schema and the quarantine, and SQLite
    // its outbox. Other modes read through the pool's connection alone.
    absl::Status opened;
    std::thread opener;
    if (whole_range) opener = std::thread([&] { opened = OpenReaders(kPgLanes); });
    absl::Status outbox;
    std::thread outbox_reader([&] { outbox = LoadOutbox(); });
    absl::Status setup = EnsureMigrated(*pool_);
    if (setup.ok()) setup = LoadQuarantine();
    outbox_reader.join();
    if (opener.joinable()) opener.join();
    TS_RETURN_IF_ERROR(setup);
    TS_RETURN_IF_ERROR(outbox);
    TS_RETURN_IF_ERROR(opened);
  }

  switch (options_.mode) {
    case VerifyMode::kFull:
    case VerifyMode::kIds:
      TS_RETURN_IF_ERROR(FullScan());
      break;
    case VerifyMode::kSince:
      TS_RETURN_IF_ERROR(ChangedRows(options_.since));
      break;
    case VerifyMode::kIncremental: {
      std::optional<Timestamp> last_clean;
      TS_RETURN_IF_ERROR(pg::ReadEach(*pool_, [&](pqxx::transaction_base& txn) {
        const pqxx::result r = txn.exec_params(
            "SELECT (extract(epoch FROM max(started_at)) * 1000000)::int8 "
            "FROM verification_runs WHERE source_store_id = $1 AND clean",
            sqlite_->store_id());
        last_clean.reset();
        if (!r[0][0].is_null()) {
          last_clean = Timestamp::FromUnixMicros(r[0][0].as<int64_t>())
                           .value_or(Timestamp());
        }
        return absl::OkStatus();
      }));
      if (!last_clean) {
        log_ << "verify: no clean run recorded yet; running a full verify\n";
        report_.mode = VerifyMode::kFull;
        report_.covers_all_rows = true;
        TS_RETURN_IF_ERROR(FullScan());
        break;
      }
      // Back by min_age: a write in flight when that run read its row.
      TS_RETURN_IF_ERROR(ChangedRows(
          Timestamp::FromUnixMicros(last_clean->unix_micros() -
                                    options_.min_age.count())
              .value_or(Timestamp())));
      break;
    }
  }
  TS_RETURN_IF_ERROR(RecheckInFlight());
  if (options_.repair && !report_.clean()) TS_RETURN_IF_ERROR(Repair());
  report_.duration_s =
      std::chrono::duration<double>(clock_->Monotonic() - start).count();
  if (options_.record_run) TS_RETURN_IF_ERROR(Record());
  return report_;
}

}  // namespace

const char* VerifyModeName(VerifyMode mode) {
  switch (mode) {
    case VerifyMode::kFull: return "full";
    case VerifyMode::kIds: return "ids";
    case VerifyMode::kSince: return "since";
    case VerifyMode::kIncremental: return "incremental";
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
  Verifier verifier(options, log);
  return verifier.Run();
}

}  // namespace tradestore
