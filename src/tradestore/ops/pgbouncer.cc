#include "tradestore/ops/pgbouncer.h"

#include <signal.h>

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tradestore/clock.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/ops/pg_cluster.h"

namespace tradestore::ops {
namespace {

// A [databases] entry's connection string with host and port replaced.
std::string PointAt(absl::string_view conninfo, const PgBouncerPlaces& p) {
  std::vector<std::string> parts;
  for (absl::string_view word :
       absl::StrSplit(conninfo, ' ', absl::SkipWhitespace())) {
    if (absl::StartsWith(word, "host=")) {
      parts.push_back(absl::StrCat("host=", p.server_host));
    } else if (absl::StartsWith(word, "port=")) {
      parts.push_back(absl::StrCat("port=", p.server_port));
    } else {
      parts.emplace_back(word);
    }
  }
  return absl::StrJoin(parts, " ");
}

}  // namespace

std::string RenderPgBouncerIni(absl::string_view ini,
                               const PgBouncerPlaces& p) {
  const std::pair<const char*, std::string> kSet[] = {
      {"listen_port", std::to_string(p.listen_port)},
      {"unix_socket_dir", p.dir},
      {"logfile", p.dir + "/pgbouncer.log"},
      {"pidfile", p.dir + "/pgbouncer.pid"},
      {"auth_file", p.auth_file},
  };
  std::string out, section;
  for (absl::string_view line : absl::StrSplit(ini, '\n')) {
    const absl::string_view t = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(t, "[")) section = std::string(t);
    const size_t eq = t.find('=');
    if (t.empty() || t[0] == ';' || t[0] == '#' || eq == t.npos) {
      absl::StrAppend(&out, line, "\n");
      continue;
    }
    const std::string key(absl::StripAsciiWhitespace(t.substr(0, eq)));
    const absl::string_view value =
        absl::StripAsciiWhitespace(t.substr(eq + 1));
    std::string rendered(line);
    if (section == "[databases]") {
      rendered = absl::StrCat(key, " = ", PointAt(value, p));
    } else if (section == "[pgbouncer]") {
      for (const auto& [name, replacement] : kSet) {
        if (key == name) rendered = absl::StrCat(key, " = ", replacement);
      }
    }
    absl::StrAppend(&out, rendered, "\n");
  }
  while (absl::EndsWith(out, "\n\n")) out.pop_back();
  return out;
}

absl::Status PgBouncerProcess::Start(const std::string& ini, int port) {
  // max_client_conn clients each need a descriptor: lift the soft limit to
  // the hard one for it (prlimit applies to the started process).
  auto r = internal::RunCommand(
      {"sh", "-c", "ulimit -n $(ulimit -Hn) && exec pgbouncer -d \"$0\"", ini},
      user_);
  if (!r.ok()) {
    return absl::FailedPreconditionError(
        "pgbouncer is not installed; run tools/setup.sh");
  }
  if (r->exit_code != 0) {
    return absl::InternalError(
        absl::StrCat("pgbouncer failed: ", r->output,
                     internal::ReadWholeFile(dir_ + "/pgbouncer.log")));
  }
  // -d returns once daemonised; wait until it accepts connections.
  const std::string isready = FindPostgresBinDir() + "/pg_isready";
  for (int i = 0; i < 200; ++i) {
    auto probe = internal::RunCommand(
        {isready, "-q", "-h", "127.0.0.1", "-p", std::to_string(port)});
    if (probe.ok() && probe->exit_code == 0) return absl::OkStatus();
    Clock::Real()->SleepFor(std::chrono::milliseconds(50));
  }
  return absl::InternalError(
      absl::StrCat("pgbouncer did not come up: ",
                   internal::ReadWholeFile(dir_ + "/pgbouncer.log")));
}

int PgBouncerProcess::Pid() const {
  int pid = 0;
  const std::string text = internal::ReadWholeFile(dir_ + "/pgbouncer.pid");
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &pid) || pid <= 0) {
    return 0;
  }
  // A stale pid file's number may belong to another process by now.
  const std::string comm =
      internal::ReadWholeFile(absl::StrCat("/proc/", pid, "/comm"));
  return absl::StripAsciiWhitespace(comm) == "pgbouncer" ? pid : 0;
}

absl::Status PgBouncerProcess::Stop() {
  const int pid = Pid();
  if (pid == 0) return absl::OkStatus();
  kill(pid, SIGTERM);
  for (int i = 0; i < 200 && kill(pid, 0) == 0; ++i) {
    Clock::Real()->SleepFor(std::chrono::milliseconds(25));
  }
  if (kill(pid, 0) == 0) kill(pid, SIGKILL);
  return absl::OkStatus();
}

}  // namespace tradestore::ops
