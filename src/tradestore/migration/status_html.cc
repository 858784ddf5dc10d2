// `tradestore status --html`: the status view as one page, with the
// verification runs and the outbox's lag as charts (verify/verify_html.h).
#include <sstream>

#include "absl/strings/str_cat.h"
#include "tradestore/internal/html.h"
#include "tradestore/migration/status.h"
#include "tradestore/verify/verify_html.h"

namespace tradestore {

std::string StatusReport::ToHtml() const {
  using internal::HtmlEscape;
  std::string body = absl::StrCat(
      "<h1>tradestore status</h1>\n<p class=\"meta\">as of ",
      HtmlEscape(postgres.now.ToIso8601()), "</p>\n<div id=\"verdict\" ",
      healthy() ? "class=\"verdict ok\">HEALTHY"
                : absl::StrCat("class=\"verdict bad\">NEEDS ATTENTION: ",
                               attention.size(),
                               attention.size() == 1 ? " thing" : " things"),
      "</div>\n");
  if (!attention.empty()) {
    absl::StrAppend(&body, "<ul class=\"attention\">\n");
    for (const std::string& a : attention) {
      absl::StrAppend(&body, "<li>", HtmlEscape(a), "</li>\n");
    }
    absl::StrAppend(&body, "</ul>\n");
  }
  absl::StrAppend(&body, "<h2>The store</h2>\n<table class=\"facts\">\n");
  for (const auto& [what, value] : Facts()) {
    absl::StrAppend(&body, "<tr><th>", HtmlEscape(what), "</th><td>",
                    HtmlEscape(value), "</td></tr>\n");
  }
  absl::StrAppend(&body, "</table>\n");
  std::ostringstream replication;
  PrintReplication(postgres.replication, replication);
  if (!replication.str().empty()) {
    absl::StrAppend(&body, "<h2>Replication</h2>\n<pre>",
                    HtmlEscape(replication.str()), "</pre>\n");
  }
  absl::StrAppend(&body, RunHistoryHtml(history));
  return internal::HtmlPage(
      absl::StrCat("tradestore status: ",
                   healthy() ? "healthy" : "needs attention"),
      body);
}

}  // namespace tradestore
