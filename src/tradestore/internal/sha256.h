// SHA-256 as lower-case hex (OpenSSL underneath): of a byte string, or
// streamed over many pieces (a file, a table in id order).
//
// Thread-safety: a Sha256 belongs to one thread.
#ifndef TRADESTORE_INTERNAL_SHA256_H_
#define TRADESTORE_INTERNAL_SHA256_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tradestore::internal {

std::string Sha256Hex(absl::string_view data);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  void Update(absl::string_view data);
  // The digest of everything so far; the object is spent afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The SHA-256 of a file's bytes; kNotFound when it cannot be read.
absl::StatusOr<std::string> Sha256OfFile(const std::string& path);

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_SHA256_H_
