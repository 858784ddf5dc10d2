#include "tradestore/ops/haproxy.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/status_macros.h"

namespace tradestore::ops {

absl::StatusOr<std::vector<HaproxyServer>> HaproxyServers(
    const std::string& socket_path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("socket path too long: ", socket_path));
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  std::string reply;
  absl::Status status;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    status = absl::UnavailableError(absl::StrCat(
        "HAProxy's socket ", socket_path, ": ", std::strerror(errno)));
  } else if (const std::string ask = "show stat\n";
             send(fd, ask.data(), ask.size(), MSG_NOSIGNAL) !=
             static_cast<ssize_t>(ask.size())) {
    status = absl::UnavailableError("HAProxy's socket took no command");
  } else {
    char buffer[8192];
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) {
        status = absl::UnavailableError("HAProxy's socket did not answer");
        break;
      }
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n <= 0) break;
      reply.append(buffer, static_cast<size_t>(n));
    }
  }
  close(fd);
  TS_RETURN_IF_ERROR(status);
  // CSV: "# pxname,svname,...,status,..." then a line per proxy and server.
  std::vector<HaproxyServer> out;
  int status_column = -1;
  for (absl::string_view line : absl::StrSplit(reply, '\n')) {
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (absl::ConsumePrefix(&line, "# ")) {
      cells = absl::StrSplit(line, ',');
      for (size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == "status") status_column = static_cast<int>(i);
      }
      continue;
    }
    if (status_column < 0 || cells.size() <= size_t(status_column)) continue;
    if (cells[1] == "FRONTEND" || cells[1] == "BACKEND") continue;
    out.push_back({cells[0], cells[1], cells[status_column]});
  }
  if (status_column < 0) {
    return absl::UnavailableError("HAProxy's socket sent no statistics");
  }
  return out;
}

std::vector<std::string> UpServers(const std::vector<HaproxyServer>& servers,
                                   const std::string& proxy) {
  std::vector<std::string> out;
  for (const HaproxyServer& s : servers) {
    if (s.proxy == proxy && s.up()) out.push_back(s.server);
  }
  return out;
}

absl::Status StartHaproxy(const std::string& cfg, const std::string& user) {
  // Run from the configuration's directory: HAProxy returns to its initial
  // directory after parsing and fails when `user` cannot enter the caller's.
  const std::string dir = std::filesystem::path(cfg).parent_path().string();
  TS_RETURN_IF_ERROR(
      internal::RunChecked({"haproxy", "-c", "-f", cfg}, user, dir));
  return internal::RunChecked({"haproxy", "-D", "-f", cfg}, user, dir);
}

}  // namespace tradestore::ops
