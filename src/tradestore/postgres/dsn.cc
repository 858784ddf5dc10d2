#include "tradestore/postgres/dsn.h"

#include <libpq-fe.h>

#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore {
namespace {

bool IsUri(absl::string_view dsn) {
  return absl::StartsWith(dsn, "postgresql://") ||
         absl::StartsWith(dsn, "postgres://");
}

// A URI with an '@' past its host part: libpq reads the userinfo only up
// to the first '/' or '?', so "app:pa/ss@db" is host "app", port "pa" and
// a database "ss@db". Such a DSN most likely holds a password with a '/'
// or '?' not percent-encoded, and none of it may be shown.
bool StrayAt(absl::string_view dsn) {
  if (!IsUri(dsn)) return false;
  const absl::string_view rest = dsn.substr(dsn.find("://") + 3);
  const size_t end = rest.find_first_of("/?");
  return end != absl::string_view::npos &&
         rest.find('@', end) != absl::string_view::npos;
}

using Options = std::vector<std::pair<std::string, std::string>>;

// The options libpq reads from `dsn` that have a value, in libpq's order;
// nullopt when libpq cannot parse it.
std::optional<Options> Parse(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(dsn.c_str(), &error);
  PQfreemem(error);  // may quote a password: never shown
  if (parsed == nullptr) return std::nullopt;
  Options options;
  for (PQconninfoOption* o = parsed; o->keyword != nullptr; ++o) {
    if (o->val != nullptr) options.emplace_back(o->keyword, o->val);
  }
  PQconninfoFree(parsed);
  return options;
}

std::string Take(Options& options, absl::string_view key, bool* found) {
  for (auto it = options.begin(); it != options.end(); ++it) {
    if (it->first == key) {
      std::string value = std::move(it->second);
      options.erase(it);
      if (found != nullptr) *found = true;
      return value;
    }
  }
  return "";
}

// A conninfo value, quoted when libpq needs it to be.
std::string KeyValueText(absl::string_view value) {
  const bool plain = !value.empty() && value.find_first_of(" \t\n\r\f\v'\\") ==
                                           absl::string_view::npos;
  if (plain) return std::string(value);
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

// Percent-encoding of everything but RFC 3986's unreserved characters.
std::string UriText(absl::string_view value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string RenderKeyValue(Options options) {
  std::vector<std::string> parts;
  for (const char* key : {"host", "hostaddr", "port", "dbname", "user"}) {
    bool found = false;
    const std::string value = Take(options, key, &found);
    if (found) parts.push_back(absl::StrCat(key, "=", KeyValueText(value)));
  }
  bool has_password = false;
  Take(options, "password", &has_password);
  if (has_password) parts.push_back("password=***");
  for (const auto& [key, value] : options) {
    parts.push_back(absl::StrCat(key, "=", KeyValueText(value)));
  }
  return absl::StrJoin(parts, " ");
}

std::string RenderUri(absl::string_view scheme, Options options) {
  std::string out(scheme);
  bool has_user = false, has_password = false;
  const std::string user = Take(options, "user", &has_user);
  Take(options, "password", &has_password);
  if (has_user || has_password) {
    absl::StrAppend(&out, UriText(user), has_password ? ":***" : "", "@");
  }
  const std::vector<std::string> hosts =
      absl::StrSplit(Take(options, "host", nullptr), ',');
  const std::vector<std::string> ports =
      absl::StrSplit(Take(options, "port", nullptr), ',');
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& host = hosts[i];
    out += host.find(':') != std::string::npos ? absl::StrCat("[", host, "]")
                                               : UriText(host);
    const std::string& port = ports.size() == hosts.size() ? ports[i]
                              : ports.size() == 1          ? ports[0]
                                                           : "";
    if (!port.empty()) absl::StrAppend(&out, ":", UriText(port));
  }
  bool has_db = false;
  const std::string db = Take(options, "dbname", &has_db);
  if (has_db) absl::StrAppend(&out, "/", UriText(db));
  for (size_t i = 0; i < options.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "?" : "&", UriText(options[i].first), "=",
                    UriText(options[i].second));
  }
  return out;
}

}  // namespace

std::string MaskDsn(absl::string_view dsn) {
  if (dsn.empty()) return "(PG* environment)";
  std::optional<Options> options = Parse(std::string(dsn));
  if (!options || StrayAt(dsn)) return "(a DSN libpq cannot parse; not shown)";
  // Where the password also stands elsewhere (a user named like it), it is
  // masked there too.
  std::string password;
  for (const auto& [key, value] : *options) {
    if (key == "password") password = value;
  }
  std::string shown;
  if (IsUri(dsn)) {
    shown = RenderUri(dsn.substr(0, dsn.find("://") + 3), *std::move(options));
  } else {
    shown = RenderKeyValue(*std::move(options));
  }
  return password.size() >= 3 ? ScrubSecret(std::move(shown), password) : shown;
}

absl::StatusOr<std::string> DsnPassword(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  PQfreemem(error);  // may quote the password: never shown
  if (options != nullptr && StrayAt(dsn)) {
    PQconninfoFree(options);
    return absl::InvalidArgumentError(
        "bad Postgres DSN: an '@' past the host part of the URI (not shown, "
        "as it may hold a password): percent-encode '/' as %2F and '?' as "
        "%3F in the user and password");
  }
  if (options == nullptr) {
    return absl::InvalidArgumentError(
        "bad Postgres DSN: libpq cannot parse it (not shown, as it may hold "
        "a password): check its quoting and percent-encoding");
  }
  std::string password;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (absl::string_view(o->keyword) == "password" && o->val != nullptr) {
      password = o->val;
    }
  }
  PQconninfoFree(options);
  return password;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> DsnEnvironment(
    const std::string& dsn) {
  TS_RETURN_IF_ERROR(DsnPassword(dsn).status());  // refuses what it must
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  PQfreemem(error);
  std::vector<std::pair<std::string, std::string>> env;
  for (PQconninfoOption* o = options; o != nullptr && o->keyword != nullptr;
       ++o) {
    if (o->val != nullptr && o->envvar != nullptr) {
      env.emplace_back(o->envvar, o->val);
    }
  }
  PQconninfoFree(options);
  return env;
}

absl::StatusOr<std::string> DsnWithDatabase(const std::string& dsn,
                                            const std::string& dbname) {
  TS_RETURN_IF_ERROR(DsnPassword(dsn).status());
  std::optional<Options> options = Parse(dsn);
  std::string out;
  bool replaced = false;
  for (auto& [key, value] : *options) {
    if (key == "dbname") {
      value = dbname;
      replaced = true;
    }
    absl::StrAppend(&out, out.empty() ? "" : " ", key, "=",
                    KeyValueText(value));
  }
  if (!replaced) {
    absl::StrAppend(&out, out.empty() ? "" : " ",
                    "dbname=", KeyValueText(dbname));
  }
  return out;
}

std::string ScrubSecret(std::string message, absl::string_view secret) {
  if (secret.empty()) return message;
  return absl::StrReplaceAll(message, {{secret, "***"}});
}

std::string WithDsnDefault(const std::string& dsn, absl::string_view key,
                           absl::string_view value) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  PQfreemem(error);
  if (options != nullptr) {
    bool present = false;
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (key == o->keyword && o->val != nullptr) present = true;
    }
    PQconninfoFree(options);
    if (present) return dsn;
  }
  if (IsUri(dsn)) {
    return absl::StrCat(dsn, absl::StrContains(dsn, "?") ? "&" : "?", key, "=",
                        value);
  }
  return absl::StrCat(dsn, dsn.empty() ? "" : " ", key, "=", value);
}

}  // namespace tradestore
