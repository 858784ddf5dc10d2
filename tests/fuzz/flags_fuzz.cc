// The flag grammar on any argument list (NUL-separated in the input): it
// parses or refuses, and what it accepts is within each flag's bounds.
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz_targets.h"
#include "tradestore/cli/flags.h"

namespace tradestore::fuzz {
namespace {

constexpr const char* kName = "flags";

const std::vector<cli::FlagSpec>& Specs() {
  static const auto* specs = new std::vector<cli::FlagSpec>{
      cli::BoolFlag("json-only", "a boolean"),
      cli::TextFlag("sqlite", "FILE", "a text"),
      cli::CountFlag("batch-rows", "a count", 1, 1'000'000),
      cli::DurationFlag("deadline", "a duration", std::chrono::seconds(1),
                        std::chrono::hours(24)),
  };
  return *specs;
}

}  // namespace

void Flags(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::string> args =
      absl::StrSplit(text, absl::ByChar('\0'));
  auto parsed = cli::ParseFlags(args, Specs());
  if (parsed.ok()) {
    if (auto n = parsed->Count("batch-rows")) {
      FUZZ_CHECK(kName, *n >= 1 && *n <= 1'000'000,
                 absl::StrCat("count out of bounds: ", *n));
    }
    if (auto d = parsed->Duration("deadline")) {
      FUZZ_CHECK(kName,
                 *d >= std::chrono::seconds(1) && *d <= std::chrono::hours(24),
                 absl::StrCat("duration out of bounds: ", d->count(), " ms"));
    }
  }
  for (const auto& arg : args) {
    auto d = cli::ParseDuration(arg);
    FUZZ_CHECK(kName, !d.ok() || d->count() >= 0,
               absl::StrCat("negative duration from \"", arg, "\""));
  }
}

}  // namespace tradestore::fuzz
