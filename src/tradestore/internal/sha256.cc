#include "tradestore/internal/sha256.h"

#include <openssl/sha.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tradestore::internal {
namespace {

std::string Hex(const unsigned char* digest) {
  return absl::BytesToHexString(absl::string_view(
      reinterpret_cast<const char*>(digest), SHA256_DIGEST_LENGTH));
}

}  // namespace

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(),
         digest);
  return Hex(digest);
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP; they
// stay available, and they cannot fail on a context we own.
struct Sha256::State {
  SHA256_CTX ctx;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  SHA256_Init(&state_->ctx);
}
Sha256::~Sha256() = default;

void Sha256::Update(absl::string_view data) {
  SHA256_Update(&state_->ctx, data.data(), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256_Final(digest, &state_->ctx);
  return Hex(digest);
}
#pragma GCC diagnostic pop

absl::StatusOr<std::string> Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  Sha256 sha;
  std::string buffer(1 << 16, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    sha.Update(
        absl::string_view(buffer.data(), static_cast<size_t>(in.gcount())));
  }
  return sha.HexDigest();
}

}  // namespace tradestore::internal
