#include "tradestore/postgres/dsn.h"

#include <libpq-fe.h>

#include <cctype>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tradestore {
namespace {

bool IsUri(absl::string_view dsn) {
  return absl::StartsWith(dsn, "postgresql://") ||
         absl::StartsWith(dsn, "postgres://");
}

std::string MaskUri(absl::string_view dsn) {
  std::string out(dsn);
  const size_t start = out.find("://") + 3;
  const size_t at = out.find('@', start);
  const size_t slash = out.find('/', start);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
    const size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) {
      out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... in the query string.
  for (size_t pos = out.find('?'); pos != std::string::npos;
       pos = out.find('&', pos + 1)) {
    if (absl::StartsWith(absl::string_view(out).substr(pos + 1), "password=")) {
      const size_t value = pos + 1 + 9;
      size_t end = out.find('&', value);
      if (end == std::string::npos) end = out.size();
      out.replace(value, end - value, "***");
    }
  }
  return out;
}

std::string MaskKeyValue(absl::string_view dsn) {
  std::string out;
  size_t i = 0;
  while (i < dsn.size()) {
    // Copy whitespace, then read a key.
    if (std::isspace(static_cast<unsigned char>(dsn[i]))) {
      out += dsn[i++];
      continue;
    }
    size_t eq = dsn.find('=', i);
    if (eq == absl::string_view::npos) {
      absl::StrAppend(&out, dsn.substr(i));
      break;
    }
    absl::string_view key = dsn.substr(i, eq - i);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) {
      key.remove_suffix(1);
    }
    size_t v = eq + 1;
    while (v < dsn.size() && std::isspace(static_cast<unsigned char>(dsn[v]))) ++v;
    size_t end = v;
    if (end < dsn.size() && dsn[end] == '\'') {
      for (++end; end < dsn.size() && dsn[end] != '\''; ++end) {
        if (dsn[end] == '\\') ++end;
      }
      if (end < dsn.size()) ++end;
    } else {
      while (end < dsn.size() &&
             !std::isspace(static_cast<unsigned char>(dsn[end]))) {
        if (dsn[end] == '\\') ++end;
        ++end;
      }
    }
    end = std::min(end, dsn.size());
    absl::StrAppend(&out, dsn.substr(i, v - i));
    out.append(key == "password" ? "***" : std::string(dsn.substr(v, end - v)));
    i = end;
  }
  return out;
}

}  // namespace

std::string MaskDsn(absl::string_view dsn) {
  if (dsn.empty()) return "(PG* environment)";
  return IsUri(dsn) ? MaskUri(dsn) : MaskKeyValue(dsn);
}

absl::StatusOr<std::string> DsnPassword(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("bad Postgres DSN ", MaskDsn(dsn), ": ", message));
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
