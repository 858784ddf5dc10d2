#include "tradestore/internal/html.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradestore::internal {
namespace {

constexpr int kWidth = 720, kHeight = 200;
constexpr int kLeft = 56, kRight = 12, kTop = 12, kBottom = 28;

// The smallest 1, 2 or 5 x 10^k at or above `v` (at least 1).
double RoundUp(double v) {
  if (!(v > 1)) return 1;
  const double p = std::pow(10, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string Figure(double v, absl::string_view unit) {
  std::string s = v == std::floor(v) && std::fabs(v) < 1e15
                      ? absl::StrFormat("%.0f", v)
                      : absl::StrFormat("%.3g", v);
  return absl::StrCat(s, unit);
}

constexpr char kStyle[] = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:960px;
color:#1d232a;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#56606b;margin:0 0 16px}
.verdict{padding:14px 18px;border-radius:6px;font-size:18px;font-weight:600;
color:#fff}
.verdict.ok{background:#1b7f3b}.verdict.bad{background:#b3261e}
table{border-collapse:collapse;margin:8px 0}
th,td{padding:3px 10px;border-bottom:1px solid #dde1e5;text-align:left;
vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code,td.d{font-family:ui-monospace,monospace;font-size:13px}
tr.differs td{background:#fde7e5}
ul.attention li{color:#b3261e}
svg{display:block;max-width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:#56606b}
.grid{stroke:#e4e7ea}.mark{fill:#2f6fb0}.mark.alert{fill:#b3261e}
.line{fill:none;stroke:#2f6fb0;stroke-width:1.5}
)";

// A bar centred on `cx` from the axis at `base` up to `y`.
std::string Bar(const ChartMark& m, const std::string& cls, double cx, double y,
                double step, double base) {
  const double w = std::max(1.0, std::min(step * 0.7, 40.0));
  // A zero still shows, as a sliver on the axis; an alert always stands
  // out, however tall its neighbours.
  const double h = std::max(m.alert ? 6.0 : 1.0, base - y);
  return absl::StrCat(
      absl::StrFormat("<rect class=\"mark %s%s\" x=\"%.1f\" y=\"%.1f\" "
                      "width=\"%.1f\" height=\"%.1f\">",
                      cls, m.alert ? " alert" : "", cx - w / 2, base - h, w, h),
      "<title>", HtmlEscape(m.tip), "</title></rect>\n");
}

std::string Dot(const ChartMark& m, const std::string& cls, double cx,
                double y) {
  return absl::StrCat(
      absl::StrFormat(
          "<circle class=\"mark %s%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\">", cls,
          m.alert ? " alert" : "", cx, y),
      "<title>", HtmlEscape(m.tip), "</title></circle>\n");
}

}  // namespace

std::string HtmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string HtmlPage(absl::string_view title, absl::string_view body) {
  return absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
      "'none'; style-src 'unsafe-inline'\">\n"
      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
      HtmlEscape(title), "</title>\n<style>", kStyle,
      "</style></head>\n<body>\n", body, "</body></html>\n");
}

std::string SvgChart(const ChartOptions& options,
                     const std::vector<ChartMark>& marks) {
  std::string out = absl::StrFormat(
      "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
      "aria-label=\"%s\">\n",
      kWidth, kHeight, kWidth, kHeight, HtmlEscape(options.title));
  if (marks.empty()) {
    absl::StrAppend(&out, "<text x=\"", kWidth / 2, "\" y=\"", kHeight / 2,
                    "\" text-anchor=\"middle\">nothing recorded yet</text>"
                    "</svg>\n");
    return out;
  }
  double top = 0;
  for (const ChartMark& m : marks) top = std::max(top, m.value);
  top = RoundUp(top);
  const double plot_w = kWidth - kLeft - kRight;
  const double plot_h = kHeight - kTop - kBottom;
  auto y_of = [&](double v) { return kTop + plot_h * (1 - v / top); };
  for (double f : {0.0, 0.5, 1.0}) {
    const double y = y_of(top * f);
    absl::StrAppendFormat(&out,
                          "<line class=\"grid\" x1=\"%d\" x2=\"%d\" "
                          "y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
                          "text-anchor=\"end\">%s</text>\n",
                          kLeft, kWidth - kRight, y, y, kLeft - 6, y + 4,
                          HtmlEscape(Figure(top * f, options.unit)));
  }
  const double step = plot_w / static_cast<double>(marks.size());
  const std::string cls = HtmlEscape(options.css_class);
  std::string points;
  for (size_t i = 0; i < marks.size(); ++i) {
    const double cx = kLeft + step * (static_cast<double>(i) + 0.5);
    const double y = y_of(std::max(0.0, marks[i].value));
    absl::StrAppend(&out, options.bars
                              ? Bar(marks[i], cls, cx, y, step, kTop + plot_h)
                              : Dot(marks[i], cls, cx, y));
    absl::StrAppendFormat(&points, "%s%.1f,%.1f", points.empty() ? "" : " ", cx,
                          y);
  }
  if (!options.bars && marks.size() > 1) {
    absl::StrAppend(&out, "<polyline class=\"line\" points=\"", points,
                    "\"/>\n");
  }
  absl::StrAppendFormat(&out,
                        "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" "
                        "y=\"%d\" text-anchor=\"end\">%s</text>\n</svg>\n",
                        kLeft, kHeight - 8, HtmlEscape(options.first_label),
                        kWidth - kRight, kHeight - 8,
                        HtmlEscape(options.last_label));
  return out;
}

std::string SvgBarList(absl::string_view title, absl::string_view css_class,
                       const std::vector<BarItem>& items) {
  constexpr int kRow = 24, kLabel = 190, kFigure = 90;
  const int height = kRow * static_cast<int>(items.size()) + 8;
  std::string out = absl::StrFormat(
      "<svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
      "aria-label=\"%s\">\n",
      kWidth, height, kWidth, height, HtmlEscape(title));
  double top = 0;
  for (const BarItem& item : items) top = std::max(top, item.value);
  const double span = kWidth - kLabel - kFigure;
  const std::string cls = HtmlEscape(css_class);
  for (size_t i = 0; i < items.size(); ++i) {
    const BarItem& item = items[i];
    const int y = 4 + kRow * static_cast<int>(i);
    const double w =
        top > 0 ? std::max(item.value > 0 ? 2.0 : 0.0, span * item.value / top)
                : 0;
    absl::StrAppendFormat(
        &out,
        "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>"
        "<rect class=\"mark %s%s\" x=\"%d\" y=\"%d\" width=\"%.1f\" "
        "height=\"%d\"/><text x=\"%.1f\" y=\"%d\">%s</text>\n",
        kLabel - 8, y + 15, HtmlEscape(item.label), cls,
        item.alert ? " alert" : "", kLabel, y + 3, w, kRow - 8, kLabel + w + 6,
        y + 15, Figure(item.value, ""));
  }
  absl::StrAppend(&out, "</svg>\n");
  return out;
}

}  // namespace tradestore::internal
