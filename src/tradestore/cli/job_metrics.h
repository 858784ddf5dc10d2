// The textfile a scheduled job leaves for node_exporter: whether its last
// run worked (tradestore_<job>_up), when it last tried and last succeeded,
// how long it took, and the job's own figures. A failed run updates the
// attempt and up 0 and keeps the last success from the file it replaces,
// so an alert sees both "it failed" and "for how long".
#ifndef TRADESTORE_CLI_JOB_METRICS_H_
#define TRADESTORE_CLI_JOB_METRICS_H_

#include <string>

#include "tradestore/timestamp.h"

namespace tradestore::cli {

// The text for `path` (whose current content supplies the last success of
// a failed run). `figures` is the job's own Prometheus text, "" when the
// run failed. `labels` ("{mode=\"full\"}" or "") tell apart runs of one job
// that write files of their own.
std::string JobMetrics(const std::string& path, const std::string& job, bool ok,
                       Timestamp now, double duration_s,
                       const std::string& figures,
                       const std::string& labels = "");

}  // namespace tradestore::cli

#endif  // TRADESTORE_CLI_JOB_METRICS_H_
