#include "tradestore/cli/job_metrics.h"

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace tradestore::cli {
namespace {

// The value of `metric` in the Prometheus text at `path`, 0 when absent.
double Previous(const std::string& path, const std::string& metric) {
  std::ifstream in(path);
  const std::string text(std::istreambuf_iterator<char>(in), {});
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
                       const std::string& figures) {
  const std::string prefix = "tradestore_" + job;
  const double now_s = now.unix_micros() / 1e6;
  const double success =
      ok ? now_s : Previous(path, prefix + "_last_success_timestamp_seconds");
  std::string out = absl::StrFormat(
      "# HELP %s_up 1 when the last run of %s worked.\n"
      "# TYPE %s_up gauge\n%s_up %d\n"
      "# HELP %s_last_attempt_timestamp_seconds When it last ran.\n"
      "# TYPE %s_last_attempt_timestamp_seconds gauge\n"
      "%s_last_attempt_timestamp_seconds %.0f\n"
      "# HELP %s_last_success_timestamp_seconds When it last worked (0: "
      "never).\n"
      "# TYPE %s_last_success_timestamp_seconds gauge\n"
      "%s_last_success_timestamp_seconds %.0f\n"
      "# HELP %s_duration_seconds How long the last run took.\n"
      "# TYPE %s_duration_seconds gauge\n%s_duration_seconds %.3f\n",
      prefix, job, prefix, prefix, ok ? 1 : 0, prefix, prefix, prefix, now_s,
      prefix, prefix, prefix, success, prefix, prefix, prefix, duration_s);
  return out + figures;
}

}  // namespace tradestore::cli
