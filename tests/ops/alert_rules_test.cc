// The shipped alerting rules (tools/monitoring/tradestore-alerts.yml) name
// only metrics the code writes, with the labels it writes: a renamed
// metric would otherwise leave an alert that can never fire.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "tradestore/cli/job_metrics.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/migration/status.h"
#include "tradestore/migration/store_metrics.h"
#include "tradestore/ops/restore.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {
namespace {

std::string Read(const std::string& path) {
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << path;
  return internal::ReadWholeFile(path);
}

// Every metric name in Prometheus text, with the label names seen on it.
std::set<std::string> Names(const std::string& text) {
  std::set<std::string> out;
  const std::regex sample(R"(^(tradestore_[a-z_]+)[ {])",
                          std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), sample);
       it != std::sregex_iterator(); ++it) {
    out.insert((*it)[1]);
  }
  return out;
}

std::string EveryMetric() {
  StatusReport status;
  status.postgres.replication.wants_sync = true;
  status.postgres.replication.standbys.push_back(
      {"node2", "streaming", "sync", 0, 0.001});
  VerifyReport full;
  full.mode = VerifyMode::kFull;
  const Timestamp now = Timestamp::FromUnixMicros(0).value();
  StoreFigures store;
  store.outbox = OutboxStatus{};
  ops::RestoreReport drill;
  drill.drill = true;
  return status.ToPrometheus() + full.ToPrometheus() + StoreMetricsText(store) +
         drill.ToPrometheus() +
         cli::JobMetrics("/nonexistent", "backup", true, now, 1, "") +
         cli::JobMetrics("/nonexistent", "restore_drill", true, now, 1, "") +
         cli::JobMetrics("/nonexistent", "verify", true, now, 1, "",
                         "{mode=\"full\"}") +
         cli::JobMetrics("/nonexistent", "relay", true, now, 1, "",
                         "{mode=\"service\"}");
}

// Expects every metric tools/monitoring/`file` names to be in `written`;
// returns how many names it checked.
int ExpectOnlyWritten(const std::string& file, const std::string& written) {
  const std::set<std::string> names = Names(written);
  const std::string text =
      Read(absl::StrCat(TRADESTORE_SOURCE_DIR, "/tools/monitoring/", file));
  const std::regex used(R"(tradestore_[a-z_]+)");
  int checked = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), used);
       it != std::sregex_iterator(); ++it) {
    EXPECT_TRUE(names.count(it->str()))
        << it->str() << " in " << file << " is not written; written:\n"
        << written;
    ++checked;
  }
  return checked;
}

TEST(AlertRulesTest, NameOnlyMetricsTheCodeWrites) {
  const std::string written = EveryMetric();
  EXPECT_GT(ExpectOnlyWritten("tradestore-alerts.yml", written), 10);
  // The labels the rules select on.
  EXPECT_NE(written.find("tradestore_verify_last_run_timestamp_seconds{mode="
                         "\"full\""),
            std::string::npos);
  EXPECT_NE(written.find("tradestore_replication_lag_bytes{standby=\"node2\""),
            std::string::npos);
  EXPECT_NE(written.find("tradestore_relay_last_success_timestamp_seconds{"
                         "mode=\"service\""),
            std::string::npos);
}

TEST(AlertRulesTest, TheDashboardNamesOnlyMetricsTheCodeWrites) {
  EXPECT_GT(ExpectOnlyWritten("tradestore-dashboard.json", EveryMetric()), 20);
}

}  // namespace
}  // namespace tradestore
