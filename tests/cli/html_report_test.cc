// verify --html and status --html: one self-contained page each, checked
// as headless Chromium renders it (testing/browser.h), not as text.
#include <gtest/gtest.h>

#include <algorithm>

#include "nlohmann/json.hpp"
#include "testing/browser.h"
#include "testing/cli_run.h"
#include "testing/pg_environment.h"
#include "testing/sqlite_file.h"
#include "testing/temp_dir.h"
#include "tradestore/clock.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/timestamp.h"

namespace tradestore::cli {
namespace {

using tradestore::testing::Cli;
using tradestore::testing::CliRun;
using tradestore::testing::PgEnvironment;

// What both pages are measured for: the verdict, the marks of each chart,
// the rows marked as differing, whether anything was fetched or overflows.
constexpr char kMeasure[] = R"(
  const verdict = doc.getElementById('verdict');
  const box = (e) => e.getBoundingClientRect();
  return {
    title: doc.title,
    verdict: verdict.textContent,
    verdict_colour: win.getComputedStyle(verdict).backgroundColor,
    verdict_height: box(verdict).height,
    runs: [...doc.querySelectorAll('svg rect.run')].map(
        r => ({height: box(r).height, alert: r.classList.contains('alert')})),
    lag_points: doc.querySelectorAll('svg circle.lag').length,
    kinds: [...doc.querySelectorAll('svg rect.kind')].map(r => box(r).width),
    money_differs: doc.querySelectorAll('table.money tr.differs').length,
    mismatch_cells: [...doc.querySelectorAll('table.mismatches td')].map(
        td => td.textContent),
    attention: [...doc.querySelectorAll('ul.attention li')].map(
        li => li.textContent),
    all_svg: [...doc.querySelectorAll('svg')].every(
        s => s.namespaceURI === 'http://www.w3.org/2000/svg'),
    overflow: doc.documentElement.scrollWidth - win.innerWidth,
    fetched: win.performance.getEntriesByType('resource').length,
  };
)";

nlohmann::json Measure(const std::string& page) {
  auto measured = tradestore::testing::MeasureInChromium(page, kMeasure);
  EXPECT_TRUE(measured.ok()) << measured.status();
  return measured.ok() ? nlohmann::json::parse(*measured) : nlohmann::json();
}

TEST(HtmlReportTest, PagesShowTheVerdictTheDifferencesAndTheRuns) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshDatabaseName();
  const std::string dsn = env.pg().Dsn(db);
  tradestore::testing::TempDir dir;
  const std::string store = dir.File("legacy.db");
  ASSERT_TRUE(GenerateLegacyStore({.path = store, .rows = 40}).ok());
  ASSERT_EQ(Cli({"backfill", "--sqlite", store, "--pg", dsn}).code, 0);
  ASSERT_EQ(Cli({"verify", "--sqlite", store, "--pg", dsn}).code, 0);

  // One price changed and one row lost on the Postgres side; one trade
  // waiting in the outbox for 2 hours, which the page charts as the lag.
  tradestore::testing::Sql(db,
                           "UPDATE trades SET price = price + 1 WHERE id = 7; "
                           "DELETE FROM trades WHERE id = 9");
  {
    tradestore::testing::SqliteFile file(store);
    file.Exec(
        "CREATE TABLE IF NOT EXISTS tradestore_outbox (seq INTEGER PRIMARY "
        "KEY AUTOINCREMENT, trade_id INTEGER NOT NULL, version INTEGER NOT "
        "NULL, enqueued_at TEXT NOT NULL)");
    const Timestamp then = *Timestamp::FromUnixMicros(
        Clock::Real()->Now().unix_micros() - 7'200'000'000);
    file.Exec(
        "INSERT INTO tradestore_outbox (trade_id, version, "
        "enqueued_at) VALUES (3, 1, '" +
        then.ToIso8601() + "')");
  }
  const std::string page = dir.File("verify.html");
  CliRun verify = Cli({"verify", "--sqlite", store, "--pg", dsn,
                       "--outbox-wait", "0s", "--html", page});
  ASSERT_EQ(verify.code, 1) << verify.err;
  const std::string html = internal::ReadWholeFile(page);
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);

  const nlohmann::json v = Measure(page);
  ASSERT_TRUE(v.is_object()) << v.dump();
  EXPECT_EQ(v["title"], "tradestore verify: differences");
  EXPECT_EQ(v["verdict"], "DIFFERENCES FOUND: 2 rows");
  EXPECT_EQ(v["verdict_colour"], "rgb(179, 38, 30)");
  EXPECT_GT(v["verdict_height"].get<double>(), 20);
  // Missing in Postgres, missing in SQLite, mismatched, quarantined.
  ASSERT_EQ(v["kinds"].size(), 4u) << v.dump();
  EXPECT_GT(v["kinds"][0].get<double>(), 0);
  EXPECT_EQ(v["kinds"][1].get<double>(), 0);
  EXPECT_GT(v["kinds"][2].get<double>(), 0);
  EXPECT_NE(std::find(v["mismatch_cells"].begin(), v["mismatch_cells"].end(),
                      "price"),
            v["mismatch_cells"].end())
      << v.dump();
  // Each symbol and side that differs shows both stores' lines.
  const int differs = v["money_differs"].get<int>();
  EXPECT_TRUE(differs == 2 || differs == 4) << differs;
  // The clean run and this one, oldest first; this one in the alert colour
  // and taller.
  ASSERT_EQ(v["runs"].size(), 2u) << v.dump();
  EXPECT_FALSE(v["runs"][0]["alert"].get<bool>());
  EXPECT_TRUE(v["runs"][1]["alert"].get<bool>());
  EXPECT_GT(v["runs"][1]["height"].get<double>(),
            v["runs"][0]["height"].get<double>());
  EXPECT_EQ(v["lag_points"], 2);
  EXPECT_TRUE(v["all_svg"].get<bool>());
  EXPECT_LE(v["overflow"].get<double>(), 0);
  EXPECT_EQ(v["fetched"], 0);
  EXPECT_NE(html.find("1 entries, the oldest 72"), std::string::npos);

  const std::string status_page = dir.File("status.html");
  const std::string status_json = dir.File("status.json");
  const std::string status_prom = dir.File("status.prom");
  CliRun status =
      Cli({"status", "--pg", dsn, "--sqlite", store, "--json", status_json,
           "--html", status_page, "--prom", status_prom});
  ASSERT_EQ(status.code, 1) << status.err;
  // The outbox as the text and the metrics show it.
  EXPECT_NE(status.out.find("outbox     1 entries, the oldest 2.0h old"),
            std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("backfill   done, through id 40"),
            std::string::npos)
      << status.out;
  // No relay ever acked: the attention says so.
  EXPECT_NE(status.out.find("relay      no ack recorded"), std::string::npos)
      << status.out;
  EXPECT_NE(status.out.find("no relay has acked an entry"), std::string::npos)
      << status.out;
  EXPECT_NE(internal::ReadWholeFile(status_prom)
                .find("tradestore_status_outbox_entries 1\n"),
            std::string::npos);
  const auto status_facts =
      nlohmann::json::parse(internal::ReadWholeFile(status_json));
  const auto attention = status_facts["attention"];
  EXPECT_TRUE(status_facts["backfill"]["completed"].get<bool>())
      << status_facts.dump();
  EXPECT_EQ(status_facts["backfill"]["high_water_id"], 40);
  EXPECT_FALSE(status_facts["last_full_run"]["clean"].get<bool>());
  EXPECT_EQ(status_facts["last_full_run"]["differences"], 2);
  EXPECT_GT(status_facts["outbox_oldest_age_s"].get<double>(), 7000);
  const nlohmann::json s = Measure(status_page);
  ASSERT_TRUE(s.is_object()) << s.dump();
  EXPECT_EQ(s["verdict"].get<std::string>().rfind("NEEDS ATTENTION", 0), 0u)
      << s.dump();
  EXPECT_EQ(s["attention"], attention);
  EXPECT_EQ(s["runs"].size(), 2u);
  EXPECT_EQ(s["fetched"], 0);
  EXPECT_LE(s["overflow"].get<double>(), 0);
}

}  // namespace
}  // namespace tradestore::cli
