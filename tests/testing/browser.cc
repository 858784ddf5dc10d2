#include "testing/browser.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "testing/temp_dir.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

absl::StatusOr<std::string> MeasureInChromium(const std::string& page_path,
                                              const std::string& measure) {
  const char* chromium = "/usr/bin/chromium";
  if (access(chromium, X_OK) != 0) {
    return absl::NotFoundError(
        "no /usr/bin/chromium: tools/setup.sh installs it");
  }
  TempDir dir;
  const std::string page = std::filesystem::absolute(page_path).string();
  // The result goes out base64-encoded, so the dumped DOM escapes nothing.
  const std::string harness = absl::StrCat(
      "<!DOCTYPE html><html><head><script>\n"
      "function measured(frame) {\n"
      "  let out;\n"
      "  try {\n"
      "    const win = frame.contentWindow, doc = win.document;\n"
      "    out = (function (doc, win) {\n",
      measure,
      "\n    })(doc, win);\n"
      "  } catch (e) { out = {error: String(e)}; }\n"
      "  const json = JSON.stringify(out === undefined ? null : out);\n"
      "  document.getElementById('result').textContent =\n"
      "      btoa(unescape(encodeURIComponent(json)));\n"
      "}\n"
      "</script></head><body style=\"margin:0\">"
      "<iframe style=\"width:1000px;height:800px;border:0\" "
      "onload=\"measured(this)\" src=\"file://",
      page, "\"></iframe><pre id=\"result\">none</pre></body></html>\n");
  const std::string harness_path = dir.File("harness.html");
  std::ofstream(harness_path) << harness;
  auto run = internal::RunCommand(
      {"timeout", "120", chromium, "--headless", "--no-sandbox",
       "--disable-gpu", "--disable-quic", "--no-first-run",
       "--disable-background-networking", "--disable-component-update",
       "--disable-sync", "--allow-file-access-from-files",
       "--user-data-dir=" + dir.File("profile"), "--window-size=1000,900",
       "--virtual-time-budget=5000", "--dump-dom", "file://" + harness_path});
  if (!run.ok()) return run.status();
  const std::string& dom = run->out;
  const size_t open = dom.find("<pre id=\"result\">");
  const size_t close = dom.find("</pre>", open);
  if (run->exit_code != 0 || open == std::string::npos ||
      close == std::string::npos) {
    return absl::InternalError(
        absl::StrCat("chromium exited ", run->exit_code, ": ", run->output));
  }
  const size_t from = open + std::string("<pre id=\"result\">").size();
  if (dom.compare(from, close - from, "none") == 0) {
    return absl::InternalError("the page was not measured: it never loaded");
  }
  std::string json;
  if (!absl::Base64Unescape(dom.substr(from, close - from), &json)) {
    return absl::InternalError(absl::StrCat("the page was not measured: ",
                                            dom.substr(from, close - from)));
  }
  if (json.rfind("{\"error\":", 0) == 0) {
    return absl::InternalError(absl::StrCat("the measure threw: ", json));
  }
  return json;
}

}  // namespace tradestore::testing
