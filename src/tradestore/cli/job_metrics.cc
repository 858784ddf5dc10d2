#include "tradestore/cli/job_metrics.h"

#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/prom_text.h"
#include "tradestore/internal/read_file.h"

namespace tradestore::cli {
namespace {

// The value of `metric` in the Prometheus text at `path`, 0 when absent.
double Previous(const std::string& path, const std::string& metric) {
  const std::string text = internal::ReadWholeFile(path);
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::ConsumePrefix(&line, metric + " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return 0;
}

}  // namespace

std::string JobMetrics(const std::string& path, const std::string& job, bool ok,
                       Timestamp now, double duration_s,
                       const std::string& figures, const std::string& labels) {
  const std::string prefix = "tradestore_" + job;
  const double now_s = now.unix_micros() / 1e6;
  const double success =
      ok ? now_s
         : Previous(path, prefix + "_last_success_timestamp_seconds" + labels);
  PromText t;
  t.Gauge(prefix + "_up",
          absl::StrCat("1 when the last run of ", job, " worked."), ok ? 1 : 0,
          labels);
  t.Gauge(prefix + "_last_attempt_timestamp_seconds", "When it last ran.",
          std::floor(now_s), labels);
  t.Gauge(prefix + "_last_success_timestamp_seconds",
          "When it last worked (0: never).", std::floor(success), labels);
  t.Gauge(prefix + "_duration_seconds", "How long the last run took.",
          duration_s, labels);
  return t.Take() + figures;
}

}  // namespace tradestore::cli
