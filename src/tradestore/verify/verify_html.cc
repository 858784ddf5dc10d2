#include "tradestore/verify/verify_html.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tradestore/internal/html.h"
#include "tradestore/verify/money_tally.h"

namespace tradestore {
namespace {

using internal::HtmlEscape;

// "2026-12-04T10:20:30.123456Z" -> "2026-12-04 10:20:30Z".
std::string When(Timestamp t) {
  std::string s = t.ToIso8601();
  if (s.size() >= 19) s = s.substr(0, 19) + "Z";
  std::replace(s.begin(), s.end(), 'T', ' ');
  return s;
}

std::string Cell(const std::string& text, const char* cls = "") {
  return absl::StrCat("<td", *cls ? absl::StrCat(" class=\"", cls, "\"") : "",
                      ">", HtmlEscape(text), "</td>");
}

std::string CountsTable(const VerifyReport& r) {
  std::string out = "<table class=\"counts\">\n";
  auto row = [&](const std::string& what, int64_t n) {
    absl::StrAppend(&out, "<tr><th>", HtmlEscape(what), "</th>",
                    Cell(absl::StrCat(n), "n"), "</tr>\n");
  };
  row("rows read from SQLite", r.rows_sqlite);
  row("rows read from Postgres", r.rows_postgres);
  row("matching", r.rows_matching);
  row("quarantined by the backfill (not differences)", r.quarantined);
  row("changed during the run, read again once settled", r.rechecked_in_flight);
  row("outbox entries at the start", r.outbox_entries);
  return out + "</table>\n";
}

// An id list, with "..." when the count is larger than the sample.
std::string Ids(const std::vector<int64_t>& ids, int64_t count) {
  return absl::StrCat(absl::StrJoin(ids, ", "),
                      count > static_cast<int64_t>(ids.size()) ? ", ..." : "");
}

std::string Differences(const VerifyReport& r) {
  std::string out = internal::SvgBarList(
      "Differences by kind", "kind",
      {{"missing in Postgres", static_cast<double>(r.missing_in_postgres),
        r.missing_in_postgres > 0},
       {"missing in SQLite", static_cast<double>(r.missing_in_sqlite),
        r.missing_in_sqlite > 0},
       {"mismatched", static_cast<double>(r.mismatched), r.mismatched > 0},
       {"quarantined", static_cast<double>(r.quarantined), false}});
  if (!r.missing_in_postgres_ids.empty()) {
    absl::StrAppend(
        &out, "<p>Missing in Postgres: <code>",
        HtmlEscape(Ids(r.missing_in_postgres_ids, r.missing_in_postgres)),
        "</code></p>\n");
  }
  if (!r.missing_in_sqlite_ids.empty()) {
    absl::StrAppend(
        &out, "<p>Missing in SQLite: <code>",
        HtmlEscape(Ids(r.missing_in_sqlite_ids, r.missing_in_sqlite)),
        "</code></p>\n");
  }
  if (!r.mismatches.empty()) {
    absl::StrAppend(&out,
                    "<table class=\"mismatches\"><tr><th>id</th><th>column"
                    "</th><th>SQLite</th><th>Postgres</th></tr>\n");
    for (const RowMismatch& m : r.mismatches) {
      for (size_t i = 0; i < m.columns.size(); ++i) {
        absl::StrAppend(&out, "<tr class=\"differs\">",
                        Cell(i == 0 ? absl::StrCat(m.id) : "", "n"),
                        Cell(m.columns[i]), Cell(m.sqlite_values[i], "d"),
                        Cell(m.postgres_values[i], "d"), "</tr>\n");
      }
    }
    absl::StrAppend(&out, "</table>\n");
  }
  return out;
}

std::string MoneyTable(const VerifyReport& r) {
  if (!r.totals_computed) {
    return "<p>Money totals come with full and --ids runs.</p>\n";
  }
  std::string out = absl::StrCat(
      "<p>", r.totals_match() ? "The totals agree." : "THE TOTALS DIFFER.",
      "</p>\n<table class=\"money\"><tr><th>symbol</th><th>side</th>"
      "<th>store</th><th>trades</th><th>quantity</th><th>notional</th></tr>\n");
  using verify::ShortDecimal;
  for (const MoneyTotal& t : r.totals) {
    const bool same = t.matches();
    absl::StrAppend(&out, same ? "<tr>" : "<tr class=\"differs\">",
                    Cell(t.symbol), Cell(t.side),
                    Cell(same ? "both" : "SQLite"),
                    Cell(absl::StrCat(t.count_sqlite), "n"),
                    Cell(ShortDecimal(t.quantity_sqlite), "n d"),
                    Cell(ShortDecimal(t.notional_sqlite), "n d"), "</tr>\n");
    if (same) continue;
    absl::StrAppend(&out, "<tr class=\"differs\">", Cell(""), Cell(""),
                    Cell("Postgres"), Cell(absl::StrCat(t.count_postgres), "n"),
                    Cell(ShortDecimal(t.quantity_postgres), "n d"),
                    Cell(ShortDecimal(t.notional_postgres), "n d"), "</tr>\n");
  }
  return out + "</table>\n";
}

std::string RunTip(const VerificationRunPoint& run) {
  return absl::StrFormat(
      "run %d, %s, %s: %s, %d rows, %.2f s", run.id, When(run.finished_at),
      run.mode,
      run.clean ? "clean" : absl::StrCat(run.differences, " differences"),
      run.rows_sqlite, run.duration_s);
}

}  // namespace

std::string RunHistoryHtml(const std::vector<VerificationRunPoint>& runs) {
  std::vector<internal::ChartMark> differences, lag;
  for (const VerificationRunPoint& run : runs) {
    differences.push_back(
        {static_cast<double>(run.differences), RunTip(run), !run.clean});
    if (!run.outbox_oldest_age_s) continue;
    lag.push_back(
        {*run.outbox_oldest_age_s,
         absl::StrFormat("%s: %d entries, the oldest %.1f s old",
                         When(run.started_at), run.outbox_entries.value_or(0),
                         *run.outbox_oldest_age_s),
         false});
  }
  const std::string first = runs.empty() ? "" : When(runs.front().finished_at);
  const std::string last = runs.empty() ? "" : When(runs.back().finished_at);
  std::string out = absl::StrCat(
      "<h2>Verification runs</h2>\n<p>Differences found by each of the "
      "latest ",
      runs.size(), " runs; red: not clean.</p>\n",
      internal::SvgChart({.title = "Differences per verification run",
                          .css_class = "run",
                          .first_label = first,
                          .last_label = last},
                         differences),
      "<h2>Outbox lag</h2>\n<p>The dual-write outbox's oldest entry when "
      "each run started: how far the relay was behind.</p>\n",
      internal::SvgChart({.title = "Outbox lag at each run",
                          .css_class = "lag",
                          .unit = "s",
                          .first_label = first,
                          .last_label = last,
                          .bars = false},
                         lag));
  if (runs.empty()) return out;
  absl::StrAppend(&out,
                  "<table class=\"runs\"><tr><th>run</th><th>finished</th>"
                  "<th>mode</th><th>rows</th><th>differences</th>"
                  "<th>seconds</th><th>outbox</th></tr>\n");
  const size_t shown = std::min<size_t>(runs.size(), 10);
  for (size_t i = 0; i < shown; ++i) {
    const VerificationRunPoint& run = runs[runs.size() - 1 - i];
    absl::StrAppend(
        &out, run.clean ? "<tr>" : "<tr class=\"differs\">",
        Cell(absl::StrCat(run.id), "n"), Cell(When(run.finished_at)),
        Cell(run.mode), Cell(absl::StrCat(run.rows_sqlite), "n"),
        Cell(absl::StrCat(run.differences), "n"),
        Cell(absl::StrFormat("%.2f", run.duration_s), "n"),
        Cell(run.outbox_entries ? absl::StrCat(*run.outbox_entries) : "-", "n"),
        "</tr>\n");
  }
  return out + "</table>\n";
}

std::string VerifyReportHtml(const VerifyReport& r) {
  const int64_t differences =
      r.missing_in_postgres + r.missing_in_sqlite + r.mismatched;
  std::string body = absl::StrCat(
      "<h1>tradestore verify</h1>\n<p class=\"meta\">",
      HtmlEscape(VerifyModeName(r.mode)), " run",
      r.run_id > 0 ? absl::StrCat(" ", r.run_id) : "", ", started ",
      HtmlEscape(When(r.started_at)), absl::StrFormat(", %.2f s", r.duration_s),
      "<br>SQLite <code>", HtmlEscape(r.source), "</code>, Postgres <code>",
      HtmlEscape(r.target), "</code>");
  if (r.covers_all_rows || r.mode == VerifyMode::kIds) {
    absl::StrAppend(&body, "<br>ids ", r.id_from, " to ", r.id_to);
  }
  if (r.since) {
    absl::StrAppend(&body, "<br>rows changed since ",
                    HtmlEscape(When(*r.since)));
  }
  absl::StrAppend(&body, "</p>\n<div id=\"verdict\" class=\"verdict ",
                  r.clean()
                      ? "ok\">CLEAN: the stores agree"
                      : absl::StrCat("bad\">DIFFERENCES FOUND: ", differences,
                                     differences == 1 ? " row" : " rows"),
                  "</div>\n<h2>Rows</h2>\n", CountsTable(r),
                  "<h2>Differences by kind</h2>\n", Differences(r),
                  "<h2>Money per symbol and side</h2>\n", MoneyTable(r));
  if (r.repaired > 0 || !r.repair_log.empty()) {
    absl::StrAppend(&body, "<h2>Repair</h2>\n<p>", r.repaired,
                    " rows changed, then verified again.</p>\n<pre>",
                    HtmlEscape(absl::StrJoin(r.repair_log, "\n")), "</pre>\n");
  }
  absl::StrAppend(&body, RunHistoryHtml(r.history));
  return internal::HtmlPage(
      absl::StrCat("tradestore verify: ", r.clean() ? "clean" : "differences"),
      body);
}

}  // namespace tradestore
