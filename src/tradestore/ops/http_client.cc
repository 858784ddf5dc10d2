#include "tradestore/ops/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tradestore::ops {
namespace {

class Socket {
 public:
  Socket() : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

absl::Status Unavailable(const HttpRequest& r, const std::string& why) {
  return absl::UnavailableError(
      absl::StrCat(r.method, " 127.0.0.1:", r.port, r.path, ": ", why));
}

}  // namespace

absl::StatusOr<HttpResponse> Http(const HttpRequest& r) {
  Socket s;
  if (s.fd() < 0) return Unavailable(r, std::strerror(errno));
  // On Linux the send timeout also bounds connect().
  timeval tv{};
  tv.tv_sec = r.timeout.count() / 1000;
  tv.tv_usec = (r.timeout.count() % 1000) * 1000;
  setsockopt(s.fd(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(r.port));
  if (connect(s.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Unavailable(r, std::strerror(errno));
  }
  std::string text = absl::StrCat(r.method, " ", r.path,
                                  " HTTP/1.0\r\nHost: 127.0.0.1:", r.port,
                                  "\r\nConnection: close\r\n");
  if (!r.user.empty()) {
    absl::StrAppend(&text, "Authorization: Basic ",
                    absl::Base64Escape(r.user + ":" + r.password), "\r\n");
  }
  if (!r.body.empty()) {
    absl::StrAppend(&text, "Content-Type: application/json\r\n");
  }
  absl::StrAppend(&text, "Content-Length: ", r.body.size(), "\r\n\r\n", r.body);
  for (size_t sent = 0; sent < text.size();) {
    const ssize_t n =
        send(s.fd(), text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return Unavailable(r, "the request could not be sent");
    sent += static_cast<size_t>(n);
  }
  std::string reply;
  char buffer[8192];
  for (;;) {
    pollfd p{s.fd(), POLLIN, 0};
    const int ready = poll(&p, 1, static_cast<int>(r.timeout.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return Unavailable(r, "no answer in time");
    const ssize_t n = recv(s.fd(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable(r, std::strerror(errno));
    if (n == 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  // "HTTP/1.x NNN reason\r\n headers \r\n\r\n body"
  HttpResponse response;
  const size_t space = reply.find(' ');
  if (reply.compare(0, 5, "HTTP/") != 0 || space == std::string::npos ||
      !absl::SimpleAtoi(reply.substr(space + 1, 3), &response.status)) {
    return Unavailable(r, "not an HTTP answer");
  }
  const size_t end = reply.find("\r\n\r\n");
  if (end != std::string::npos) response.body = reply.substr(end + 4);
  return response;
}

}  // namespace tradestore::ops
