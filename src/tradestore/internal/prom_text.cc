#include "tradestore/internal/prom_text.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace tradestore {

PromValue::PromValue(int v) : text(absl::StrCat(v)) {}
PromValue::PromValue(int64_t v) : text(absl::StrCat(v)) {}
PromValue::PromValue(uint64_t v) : text(absl::StrCat(v)) {}
PromValue::PromValue(double v) : text(absl::StrFormat("%.15g", v)) {}

std::string PromLabels(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>
        labels) {
  if (labels.size() == 0) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    if (out.size() > 1) out += ",";
    absl::StrAppend(&out, name, "=\"");
    for (const char c : value) {
      if (c == '\\' || c == '"') {
        absl::StrAppend(&out, "\\", std::string(1, c));
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += "\"";
  }
  return out + "}";
}

PromText& PromText::Gauge(absl::string_view name, absl::string_view help,
                          const PromValue& value, absl::string_view labels) {
  return Add(name, "gauge", help, value, labels);
}

PromText& PromText::Counter(absl::string_view name, absl::string_view help,
                            const PromValue& value, absl::string_view labels) {
  return Add(name, "counter", help, value, labels);
}

PromText& PromText::Describe(absl::string_view name, absl::string_view type,
                             absl::string_view help) {
  if (described_.find(name) == described_.end()) {
    described_.emplace(name);
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n");
  }
  return *this;
}

PromText& PromText::Add(absl::string_view name, absl::string_view type,
                        absl::string_view help, const PromValue& value,
                        absl::string_view labels) {
  Describe(name, type, help);
  absl::StrAppend(&out_, name, labels, " ", value.text, "\n");
  return *this;
}

}  // namespace tradestore
