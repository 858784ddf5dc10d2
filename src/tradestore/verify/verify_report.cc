// The verify report's three forms: JSON for scripts, Prometheus text for
// node_exporter's textfile collector, and a summary for people.
#include <algorithm>
#include <ostream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/quote.h"
#include "tradestore/verify/money_tally.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

using verify::ShortDecimal;

// One line per symbol and side where the stores agree ("both"), two where
// they do not, columns as wide as their widest value.
void PrintMoneyTable(const std::vector<MoneyTotal>& totals, std::ostream& out) {
  struct Line {
    std::string symbol, side, store, trades, quantity, notional, mark;
  };
  std::vector<Line> lines = {
      {"symbol", "side", "store", "trades", "quantity", "notional", ""}};
  for (const MoneyTotal& t : totals) {
    if (t.matches()) {
      lines.push_back({t.symbol, t.side, "both", absl::StrCat(t.count_sqlite),
                       ShortDecimal(t.quantity_sqlite),
                       ShortDecimal(t.notional_sqlite), ""});
      continue;
    }
    lines.push_back({t.symbol, t.side, "SQLite", absl::StrCat(t.count_sqlite),
                     ShortDecimal(t.quantity_sqlite),
                     ShortDecimal(t.notional_sqlite), ""});
    lines.push_back({"", "", "Postgres", absl::StrCat(t.count_postgres),
                     ShortDecimal(t.quantity_postgres),
                     ShortDecimal(t.notional_postgres), "  DIFFERS"});
  }
  // Decimal points under each other: fractions padded on the right.
  for (auto field : {&Line::quantity, &Line::notional}) {
    size_t frac = 0;
    for (size_t i = 1; i < lines.size(); ++i) {
      const std::string& v = lines[i].*field;
      const size_t dot = v.find('.');
      if (dot != std::string::npos) frac = std::max(frac, v.size() - dot);
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      std::string& v = lines[i].*field;
      const size_t dot = v.find('.');
      v.append(frac - (dot == std::string::npos ? 0 : v.size() - dot), ' ');
    }
  }
  size_t w[6] = {0, 0, 0, 0, 0, 0};
  for (const Line& l : lines) {
    const std::string* cells[6] = {&l.symbol, &l.side,     &l.store,
                                   &l.trades, &l.quantity, &l.notional};
    for (int i = 0; i < 6; ++i) w[i] = std::max(w[i], cells[i]->size());
  }
  for (const Line& l : lines) {
    std::string text =
        absl::StrFormat("    %-*s  %-*s  %-*s  %*s  %*s  %*s%s", w[0], l.symbol,
                        w[1], l.side, w[2], l.store, w[3], l.trades, w[4],
                        l.quantity, w[5], l.notional, l.mark);
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << "\n";
  }
}

// Each id missing in Postgres, with why SQLite could not read it if so.
nlohmann::json MissingJson(const std::vector<int64_t>& ids,
                           const std::vector<std::string>& reasons) {
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = 0; i < ids.size(); ++i) {
    nlohmann::json entry = {{"id", ids[i]}};
    if (!reasons[i].empty()) entry["unreadable_in_sqlite"] = reasons[i];
    out.push_back(entry);
  }
  return out;
}

nlohmann::json MismatchesJson(const std::vector<RowMismatch>& mismatches) {
  nlohmann::json out = nlohmann::json::array();
  for (const RowMismatch& m : mismatches) {
    nlohmann::json columns = nlohmann::json::array();
    for (size_t i = 0; i < m.columns.size(); ++i) {
      columns.push_back({{"column", m.columns[i]},
                         {"sqlite", m.sqlite_values[i]},
                         {"postgres", m.postgres_values[i]}});
    }
    out.push_back({{"id", m.id}, {"columns", columns}});
  }
  return out;
}

nlohmann::json TotalsJson(const std::vector<MoneyTotal>& totals) {
  nlohmann::json out = nlohmann::json::array();
  for (const MoneyTotal& t : totals) {
    out.push_back({{"symbol", t.symbol},
                   {"side", t.side},
                   {"matches", t.matches()},
                   {"count_sqlite", t.count_sqlite},
                   {"count_postgres", t.count_postgres},
                   {"quantity_sqlite", t.quantity_sqlite},
                   {"quantity_postgres", t.quantity_postgres},
                   {"notional_sqlite", t.notional_sqlite},
                   {"notional_postgres", t.notional_postgres}});
  }
  return out;
}

}  // namespace

std::string VerifyReport::ToJson() const {
  nlohmann::json summary = {
      {"clean", clean()},
      {"mode", VerifyModeName(mode)},
      {"covers_all_rows", covers_all_rows},
      {"id_from", id_from},
      {"id_to", id_to},
      {"since", since ? nlohmann::json(since->ToIso8601()) : nlohmann::json()},
      {"started_at", started_at.ToIso8601()},
      {"source", source},
      {"target", target},
      {"rows_sqlite", rows_sqlite},
      {"rows_postgres", rows_postgres},
      {"rows_matching", rows_matching},
      {"missing_in_postgres", missing_in_postgres},
      {"missing_in_sqlite", missing_in_sqlite},
      {"mismatched", mismatched},
      {"quarantined", quarantined},
      {"rechecked_in_flight", rechecked_in_flight},
      {"totals_computed", totals_computed},
      {"totals_match", totals_match()},
      {"repaired", repaired},
      {"run_id", run_id},
      {"duration_s", duration_s},
      {"outbox_entries", outbox_entries},
      {"outbox_oldest_age_s", outbox_oldest_age_s}};
  return nlohmann::json{
      {"summary", summary},
      {"missing_in_postgres",
       MissingJson(missing_in_postgres_ids, missing_in_postgres_reasons)},
      {"missing_in_sqlite", missing_in_sqlite_ids},
      {"mismatched", MismatchesJson(mismatches)},
      {"quarantined_ids", quarantined_ids},
      {"money_totals", TotalsJson(totals)},
      {"repair_log", repair_log}}
      .dump(2);
}

std::string VerifyReport::ToPrometheus() const {
  const std::string labels =
      PromLabels({{"mode", VerifyModeName(mode)}, {"source", source}});
  PromText t;
  const auto gauge = [&](absl::string_view name, absl::string_view help,
                         const PromValue& value) {
    t.Gauge(absl::StrCat("tradestore_verify_", name), help, value, labels);
  };
  gauge("clean", "1 when the stores agree, 0 when differences were found",
        clean() ? 1 : 0);
  gauge("missing_in_postgres", "rows in SQLite and not in Postgres",
        missing_in_postgres);
  gauge("missing_in_sqlite", "rows in Postgres and not in SQLite",
        missing_in_sqlite);
  gauge("mismatched", "rows present in both with differing columns",
        mismatched);
  gauge("quarantined", "rows the backfill quarantined (not differences)",
        quarantined);
  gauge("rows_sqlite", "rows read from SQLite", rows_sqlite);
  gauge("rows_postgres", "rows read from Postgres", rows_postgres);
  gauge("totals_match",
        "1 when the money totals per symbol and side agree (full runs)",
        totals_match() ? 1 : 0);
  gauge("duration_seconds", "how long the run took", duration_s);
  gauge("last_run_timestamp_seconds", "when the run started (unix time)",
        started_at.unix_micros() / 1000000);
  return t.Take();
}

void VerifyReport::PrintSummary(std::ostream& out) const {
  out << "verify (" << VerifyModeName(mode)
      << "): " << (clean() ? "CLEAN, the stores agree" : "DIFFERENCES FOUND")
      << "\n"
      << "  rows read    SQLite " << rows_sqlite << ", Postgres "
      << rows_postgres;
  if (covers_all_rows || mode == VerifyMode::kIds) {
    out << " (ids " << id_from << ".." << id_to << ")";
  }
  if (since) out << " (changed since " << since->ToIso8601() << ")";
  out << "\n  matching     " << rows_matching << "\n  missing in Postgres "
      << missing_in_postgres << "\n  missing in SQLite   " << missing_in_sqlite
      << "\n  mismatched   " << mismatched << "\n  quarantined  " << quarantined
      << " (left out by the backfill, not differences)\n";
  if (rechecked_in_flight > 0) {
    out << "  rechecked    " << rechecked_in_flight
        << " rows changed during the run, after they settled\n";
  }
  if (!missing_in_postgres_ids.empty()) {
    out << "  missing in Postgres: "
        << absl::StrJoin(missing_in_postgres_ids, ", ")
        << (missing_in_postgres >
                    static_cast<int64_t>(missing_in_postgres_ids.size())
                ? ", ..."
                : "")
        << "\n";
  }
  if (!missing_in_sqlite_ids.empty()) {
    out << "  missing in SQLite: " << absl::StrJoin(missing_in_sqlite_ids, ", ")
        << (missing_in_sqlite >
                    static_cast<int64_t>(missing_in_sqlite_ids.size())
                ? ", ..."
                : "")
        << "\n";
  }
  for (const RowMismatch& m : mismatches) {
    out << "  row " << m.id << " differs:";
    for (size_t i = 0; i < m.columns.size(); ++i) {
      // Values from the data: quoted, escaped and cut (internal/quote.h).
      out << " " << m.columns[i] << " (SQLite "
          << internal::Quote(m.sqlite_values[i]) << ", Postgres "
          << internal::Quote(m.postgres_values[i]) << ")";
    }
    out << "\n";
  }
  if (totals_computed) {
    out << "  money per symbol and side: "
        << (totals_match() ? "the totals agree" : "THE TOTALS DIFFER") << "\n";
    PrintMoneyTable(totals, out);
  }
  if (repaired > 0 || !repair_log.empty()) {
    out << "  repair: " << repaired << " rows changed\n";
    for (const std::string& line : repair_log) out << "    " << line << "\n";
  }
  out << absl::StrFormat("  %.2f s", duration_s);
  if (run_id > 0) out << ", recorded as verification run " << run_id;
  out << "\n";
}

}  // namespace tradestore
