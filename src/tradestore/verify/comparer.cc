#include "tradestore/verify/comparer.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "tradestore/postgres/row_text.h"
#include "tradestore/verify/extra_text.h"

namespace tradestore::verify {
namespace {

// Rows set aside as writes in flight at most; past it they are reported.
constexpr size_t kMaxInFlight = 100000;

using pg::AppendRowText;

std::string RowText(const Trade& t) {
  std::string line;
  AppendRowText(&line, t);
  return line;
}

}  // namespace

bool Comparer::SetAside(int64_t id) {
  if (in_flight_.size() >= kMaxInFlight) return false;
  in_flight_.push_back(id);
  return true;
}

std::vector<int64_t> Comparer::TakeInFlight() {
  std::vector<int64_t> ids = std::move(in_flight_);
  in_flight_.clear();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void Comparer::Report(Kind kind, int64_t id, const Seen& s, const Seen& p) {
  if (options_.keep_differences) differences_.emplace_back(kind, id);
  const size_t cap = static_cast<size_t>(std::max(0, options_.max_samples));
  switch (kind) {
    case Kind::kMissingInPostgres:
      ++report_->missing_in_postgres;
      if (report_->missing_in_postgres_ids.size() < cap) {
        report_->missing_in_postgres_ids.push_back(id);
        report_->missing_in_postgres_reasons.emplace_back(s.reason);
      }
      return;
    case Kind::kMissingInSqlite:
      ++report_->missing_in_sqlite;
      if (report_->missing_in_sqlite_ids.size() < cap) {
        report_->missing_in_sqlite_ids.push_back(id);
      }
      return;
    case Kind::kMismatched: {
      ++report_->mismatched;
      if (report_->mismatches.size() >= cap) return;
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
          auto text = [](const std::string& e) {
            return e.empty() ? "\\N" : e;
          };
          m.columns.emplace_back("extra");
          m.sqlite_values.push_back(text(*s.extra));
          m.postgres_values.push_back(text(*p.extra));
        }
      }
      report_->mismatches.push_back(std::move(m));
      return;
    }
  }
}

void Comparer::CompareOne(int64_t id, const Seen& s, const Seen& p,
                          bool final_pass) {
  const Trade* st = s.trade;
  const Trade* pt = p.trade;
  // Quarantined by the backfill: a row the legacy rules refuse, or one they
  // read but Postgres refused (its money is left out of SQLite's totals).
  if (s.present && !p.present && quarantined_.contains(id)) {
    if (st != nullptr) TallyTrade(*st, &quarantined_money_);
    ++report_->quarantined;
    if (report_->quarantined_ids.size() <
        static_cast<size_t>(std::max(0, options_.max_samples))) {
      report_->quarantined_ids.push_back(id);
    }
    return;
  }
  if (st != nullptr && pt != nullptr && *st == *pt &&
      verify::ExtrasMatch(*s.extra, *p.extra)) {
    ++report_->rows_matching;
    return;
  }
  if (!final_pass && in_outbox_.contains(id) && SetAside(id)) {
    return;  // still on its way through the outbox
  }
  if (!final_pass && (st != nullptr || pt != nullptr)) {
    // A row written or changed within min_age may still be on its way.
    Timestamp latest;
    for (const Trade* t : {st, pt}) {
      if (t != nullptr) latest = std::max(latest, t->updated_at);
    }
    const Timestamp horizon =
        Timestamp::FromUnixMicros(options_.started_at.unix_micros() -
                                  options_.min_age.count())
            .value_or(Timestamp());
    if (latest >= horizon && SetAside(id)) {
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

void Comparer::Merge(const Chunk& sqlite, const Chunk& postgres,
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

void Comparer::MergeBytes(const EncodedChunk& sqlite,
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
    if (absl::Status st = pg::DecodeRawTrade(bytes, trade, extra); st.ok()) {
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
      ++report_->rows_matching;
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

}  // namespace tradestore::verify
