// The DSN masker and its helpers on any text: the password, however it is
// written (quoted, percent-encoded, in a URI or a keyword), never shows.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz_targets.h"
#include "tradestore/postgres/dsn.h"

namespace tradestore::fuzz {
namespace {

constexpr const char* kName = "dsn";

size_t Occurrences(absl::string_view text, absl::string_view word) {
  size_t n = 0;
  for (size_t at = text.find(word); at != absl::string_view::npos;
       at = text.find(word, at + 1)) {
    ++n;
  }
  return n;
}

bool KeyLike(absl::string_view text) {
  for (char c : text) {
    if (!((c >= 'a' && c <= 'z') || c == '_' || c == '=' || c == '*')) {
      return false;
    }
  }
  return true;
}

}  // namespace

void Dsn(const uint8_t* data, size_t size) {
  const std::string dsn(reinterpret_cast<const char*>(data), size);
  const std::string masked = MaskDsn(dsn);
  auto password = DsnPassword(dsn);
  // A password written once in the DSN (or only percent-encoded) must not
  // come out; one that is also a host or a user name may, and so may one
  // made only of what the masked form prints itself ("password=", keys).
  if (password.ok() && password->size() >= 6 &&
      Occurrences(dsn, *password) <= 1 && !KeyLike(*password)) {
    FUZZ_CHECK(kName, !absl::StrContains(masked, *password),
               absl::StrCat("MaskDsn shows the password: ", masked));
    const std::string scrubbed =
        ScrubSecret(absl::StrCat("error near ", *password, "."), *password);
    FUZZ_CHECK(kName, !absl::StrContains(scrubbed, *password),
               "ScrubSecret left the secret");
  }
  (void)DsnWithDatabase(dsn, "db");
  (void)WithDsnDefault(dsn, "connect_timeout", "5");
  (void)DsnEnvironment(dsn);
}

}  // namespace tradestore::fuzz
