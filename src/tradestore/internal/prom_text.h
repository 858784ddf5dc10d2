// Prometheus's text format, written one way for every report and job: the
// HELP and TYPE lines once per metric, before its first sample; label
// values escaped; integers as integers.
//
// Thread-safety: a value type; build one text on one thread.
#ifndef TRADESTORE_INTERNAL_PROM_TEXT_H_
#define TRADESTORE_INTERNAL_PROM_TEXT_H_

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace tradestore {

// A sample's value: an integer as it is, a double with 15 significant
// digits (a Unix time keeps its milliseconds).
struct PromValue {
  PromValue(int v);       // NOLINT: implicit by design
  PromValue(int64_t v);   // NOLINT
  PromValue(uint64_t v);  // NOLINT
  PromValue(double v);    // NOLINT
  std::string text;
};

// {name="value",...} with the values escaped (backslash, quote, newline);
// "" for no labels.
std::string PromLabels(
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>
        labels);

class PromText {
 public:
  // One sample of a gauge (or a counter). `help` is written with the first
  // sample of `name` only.
  PromText& Gauge(absl::string_view name, absl::string_view help,
                  const PromValue& value, absl::string_view labels = "");
  PromText& Counter(absl::string_view name, absl::string_view help,
                    const PromValue& value, absl::string_view labels = "");
  // Only HELP and TYPE, for a metric that may have no sample yet.
  PromText& Describe(absl::string_view name, absl::string_view type,
                     absl::string_view help);

  const std::string& text() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  PromText& Add(absl::string_view name, absl::string_view type,
                absl::string_view help, const PromValue& value,
                absl::string_view labels);

  std::string out_;
  std::set<std::string, std::less<>> described_;
};

}  // namespace tradestore

#endif  // TRADESTORE_INTERNAL_PROM_TEXT_H_
