#include "tradestore/ops/stack_config.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace tradestore::ops {

std::string PgBouncerUserlist(const StackPasswords& pw) {
  return absl::StrCat("\"pgbouncer_auth\" \"", pw.pgbouncer_auth, "\"\n",
                      "\"pgbouncer_stats\" \"", pw.pgbouncer_stats, "\"\n");
}

std::string PgPassFile(const StackPasswords& pw,
                       const std::vector<int>& postgres_ports,
                       int pgbouncer_port) {
  std::vector<int> ports = postgres_ports;
  if (pgbouncer_port != 0) ports.push_back(pgbouncer_port);
  std::string out;
  for (int port : ports) {
    absl::StrAppend(&out, "127.0.0.1:", port, ":*:tradestore_app:", pw.app,
                    "\n", "127.0.0.1:", port, ":*:postgres:", pw.postgres,
                    "\n");
  }
  if (pgbouncer_port != 0) {
    absl::StrAppend(&out, "127.0.0.1:", pgbouncer_port,
                    ":pgbouncer:pgbouncer_stats:", pw.pgbouncer_stats, "\n");
  }
  return out;
}

std::string RenderPgBackRestConf(absl::string_view conf,
                                 const PgBackRestPlaces& p) {
  const std::map<std::string, std::string> set = {
      {"repo1-path", p.repo_path},
      {"log-path", p.log_path},
      {"lock-path", p.lock_path},
      {"pg1-path", p.pg_path},
      {"pg1-port", std::to_string(p.pg_port)},
      {"pg1-socket-path", p.pg_socket_path},
  };
  std::string out;
  for (absl::string_view line : absl::StrSplit(conf, '\n')) {
    const absl::string_view t = absl::StripAsciiWhitespace(line);
    const size_t eq = t.find('=');
    if (!t.empty() && t[0] != '#' && eq != t.npos) {
      const auto it =
          set.find(std::string(absl::StripAsciiWhitespace(t.substr(0, eq))));
      if (it != set.end()) {
        absl::StrAppend(&out, it->first, "=", it->second, "\n");
        continue;
      }
    }
    absl::StrAppend(&out, line, "\n");
  }
  while (absl::EndsWith(out, "\n\n")) out.pop_back();
  for (size_t i = 0; i < p.more_pgs.size(); ++i) {
    const auto& pg = p.more_pgs[i];
    const size_t n = i + 2;
    absl::StrAppend(&out, "pg", n, "-path=", pg.path, "\npg", n,
                    "-port=", pg.port, "\npg", n,
                    "-socket-path=", pg.socket_path, "\n");
  }
  return out;
}

}  // namespace tradestore::ops
