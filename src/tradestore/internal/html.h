// The pieces of the HTML reports (`verify --html`, `status --html`): one
// self-contained page with its style inline, charts as inline SVG, and a
// Content-Security-Policy that lets the browser fetch nothing, so a report
// mailed or archived shows the same everywhere and never calls out.
//
// Thread-safety: functions.
#ifndef TRADESTORE_INTERNAL_HTML_H_
#define TRADESTORE_INTERNAL_HTML_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace tradestore::internal {

// Text safe in an element or a quoted attribute: & < > " ' escaped.
std::string HtmlEscape(absl::string_view text);

// A whole page around `body` (HTML already escaped), titled `title`.
std::string HtmlPage(absl::string_view title, absl::string_view body);

struct ChartMark {
  double value = 0;
  std::string tip;     // shown on hover (an SVG <title>)
  bool alert = false;  // drawn in the alert colour
};

struct ChartOptions {
  std::string title;      // the chart's accessible name
  std::string css_class;  // the class of each mark, for the page's tests
  std::string unit;       // after the axis figures: "s", ""
  std::string first_label, last_label;  // under the first and last mark
  bool bars = true;                     // bars, or a line through dots
};

// A chart of `marks` in order, evenly spaced, on an axis from 0 to a
// round figure above the largest. With no marks it says so.
std::string SvgChart(const ChartOptions& options,
                     const std::vector<ChartMark>& marks);

struct BarItem {
  std::string label;
  double value = 0;
  bool alert = false;
};

// Horizontal bars, one per item, each with its label and figure.
std::string SvgBarList(absl::string_view title, absl::string_view css_class,
                       const std::vector<BarItem>& items);

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_HTML_H_
