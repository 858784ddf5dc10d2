// Fuzz targets: each takes arbitrary bytes, runs one parser or converter of
// untrusted input and checks what must hold for every input (no crash, a
// round trip, agreement with an independent reference), aborting on a
// violation. Built two ways: as libFuzzer executables under ASan and UBSan
// (tools/fuzz.sh, clang), and into unit_tests, which runs every file kept
// in tests/fuzz/corpus/<target>/: the seeds and every input that ever
// failed.
#ifndef TRADESTORE_TESTS_FUZZ_FUZZ_TARGETS_H_
#define TRADESTORE_TESTS_FUZZ_FUZZ_TARGETS_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace tradestore::fuzz {

using Target = void (*)(const uint8_t* data, size_t size);
struct NamedTarget {
  const char* name;
  Target run;
};
absl::Span<const NamedTarget> Targets();

void DecimalText(const uint8_t* data, size_t size);
void TimestampText(const uint8_t* data, size_t size);
void LegacyRow(const uint8_t* data, size_t size);
void Dsn(const uint8_t* data, size_t size);
void BinaryCopyRow(const uint8_t* data, size_t size);
void Flags(const uint8_t* data, size_t size);

// Prints what failed and aborts: libFuzzer keeps the input as a crasher.
[[noreturn]] void Fail(absl::string_view target, absl::string_view what);

// Consumes the input front to back; past its end, zeros and empty text.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), left_(size) {}
  uint8_t Byte();
  uint64_t U64();
  double Double();
  // Up to `max` bytes, the length taken from the input.
  std::string Text(size_t max);
  std::string Rest();

 private:
  const uint8_t* data_;
  size_t left_;
};

}  // namespace tradestore::fuzz

#define FUZZ_CHECK(target, cond, what)                   \
  do {                                                   \
    if (!(cond)) ::tradestore::fuzz::Fail(target, what); \
  } while (0)

#endif  // TRADESTORE_TESTS_FUZZ_FUZZ_TARGETS_H_
