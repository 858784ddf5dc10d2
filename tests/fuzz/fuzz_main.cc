// The libFuzzer entry of one target, named at build time
// (TRADESTORE_FUZZ_TARGET, tools/fuzz.sh).
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tradestore::fuzz::TRADESTORE_FUZZ_TARGET(data, size);
  return 0;
}
