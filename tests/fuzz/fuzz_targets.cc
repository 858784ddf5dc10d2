#include "fuzz_targets.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace tradestore::fuzz {

absl::Span<const NamedTarget> Targets() {
  static constexpr NamedTarget kTargets[] = {
      {"decimal_text", DecimalText},      {"timestamp_text", TimestampText},
      {"legacy_row", LegacyRow},          {"dsn", Dsn},
      {"binary_copy_row", BinaryCopyRow}, {"flags", Flags},
  };
  return kTargets;
}

void Fail(absl::string_view target, absl::string_view what) {
  std::fprintf(stderr, "fuzz target %.*s: %.*s\n",
               static_cast<int>(target.size()), target.data(),
               static_cast<int>(what.size()), what.data());
  std::abort();
}

uint8_t Bytes::Byte() {
  if (left_ == 0) return 0;
  --left_;
  return *data_++;
}

uint64_t Bytes::U64() {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
  return v;
}

double Bytes::Double() {
  const uint64_t bits = U64();
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::string Bytes::Text(size_t max) {
  size_t n = Byte() % (max + 1);
  if (n > left_) n = left_;
  std::string text(reinterpret_cast<const char*>(data_), n);
  data_ += n;
  left_ -= n;
  return text;
}

std::string Bytes::Rest() {
  std::string text(reinterpret_cast<const char*>(data_), left_);
  data_ += left_;
  left_ = 0;
  return text;
}

}  // namespace tradestore::fuzz
