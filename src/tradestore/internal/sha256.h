// SHA-256 of a byte string as lower-case hex (OpenSSL underneath).
#ifndef TRADESTORE_INTERNAL_SHA256_H_
#define TRADESTORE_INTERNAL_SHA256_H_

#include <string>
#include "absl/strings/string_view.h"

namespace tradestore::internal {

std::string Sha256Hex(absl::string_view data);

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_SHA256_H_
