// The verify report as one page to look at (`verify --html`): the verdict,
// the differences by kind with their samples, the money per symbol and side
// in both stores, and the recorded runs and the outbox's lag as charts.
// Self-contained (internal/html.h): no script, nothing fetched.
//
// Thread-safety: functions.
#ifndef TRADESTORE_VERIFY_VERIFY_HTML_H_
#define TRADESTORE_VERIFY_VERIFY_HTML_H_

#include <string>
#include <vector>

#include "tradestore/postgres/verification_log.h"
#include "tradestore/verify/verifier.h"

namespace tradestore {

// The page for `report`, its history included.
std::string VerifyReportHtml(const VerifyReport& report);

// The part both reports show (`status --html` too): the differences of each
// recorded run and the outbox's oldest entry at each run's start, as
// charts, and the latest runs as a table. `runs` oldest first.
std::string RunHistoryHtml(const std::vector<VerificationRunPoint>& runs);

}  // namespace tradestore

#endif  // TRADESTORE_VERIFY_VERIFY_HTML_H_
