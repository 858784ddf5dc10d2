// Renders a page in headless Chromium (Debian's chromium, which
// tools/setup.sh installs) and returns what a script measured in the
// rendered page: layout, computed styles, what the page fetched. The page
// is loaded in a frame of a harness page, so a page that forbids scripts
// (the reports' Content-Security-Policy) is measured as it is.
#ifndef TRADESTORE_TESTS_TESTING_BROWSER_H_
#define TRADESTORE_TESTS_TESTING_BROWSER_H_

#include <string>

#include "absl/status/statusor.h"

namespace tradestore::testing {

// Loads `page_path` (a file) in a 1000x800 frame and runs `measure`, the
// body of a function of (doc, win) that returns a JSON-able value; returns
// that value as JSON text. kNotFound without Chromium; kInternal when it
// failed or the script threw (the error in the message).
absl::StatusOr<std::string> MeasureInChromium(const std::string& page_path,
                                              const std::string& measure);

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_BROWSER_H_
