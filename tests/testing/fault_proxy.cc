#include "testing/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace tradestore::testing {
namespace {

// COMMIT's CommandComplete: 'C', length 11, "COMMIT\0".
constexpr char kCommitReply[] = {'C', 0,   0,   0,   11,  'C',
                                 'O', 'M', 'M', 'I', 'T', 0};

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t sent = send(fd, data, n, MSG_NOSIGNAL);
    if (sent <= 0) return false;
    data += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

}  // namespace

struct FaultProxy::Link {
  int client = -1, server = -1;
  std::atomic<bool> closed{false};
  // Both sides at once; the descriptors stay open until both pumps are
  // done, so neither reads a number the kernel gave to another socket.
  void Close() {
    if (closed.exchange(true)) return;
    shutdown(client, SHUT_RDWR);
    shutdown(server, SHUT_RDWR);
  }
  ~Link() {
    if (client >= 0) close(client);
    if (server >= 0) close(server);
  }
};

FaultProxy::FaultProxy(int target_port) : target_port_(target_port) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free port: no race with others
  bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  listen(listen_fd_, 64);
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { Accept(); });
}

FaultProxy::~FaultProxy() {
  stop_.store(true);
  shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  close(listen_fd_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& link : links_) link->Close();
  }
  for (auto& t : threads_) t.join();
}

void FaultProxy::Accept() {
  while (!stop_.load()) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(target_port_));
    if (connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(server);
      close(client);
      continue;
    }
    accepted_.fetch_add(1);
    auto link = std::make_shared<Link>();
    link->client = client;
    link->server = server;
    std::lock_guard<std::mutex> lock(mu_);
    links_.push_back(link);
    threads_.emplace_back([this, link] { Pump(link, /*to_server=*/true); });
    threads_.emplace_back([this, link] { Pump(link, /*to_server=*/false); });
  }
}

void FaultProxy::Pump(std::shared_ptr<Link> link, bool to_server) {
  const int from = to_server ? link->client : link->server;
  const int to = to_server ? link->server : link->client;
  std::string tail;  // the last bytes forwarded, for a reply split in two
  char buf[65536];
  while (!stop_.load() && !link->closed.load()) {
    if (stalled_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    pollfd p{from, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    const ssize_t n = recv(from, buf, sizeof buf, 0);
    if (n <= 0) break;
    if (const int64_t ms = latency_ms_.load(); ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    if (!to_server && drop_commits_.load() > 0) {
      std::string seen = tail + std::string(buf, static_cast<size_t>(n));
      if (seen.find(std::string(kCommitReply, sizeof kCommitReply)) !=
          std::string::npos) {
        int left = drop_commits_.load();
        while (left > 0 &&
               !drop_commits_.compare_exchange_weak(left, left - 1)) {
        }
        if (left > 0) {
          dropped_.fetch_add(1);
          link->Close();
          return;
        }
      }
      tail = seen.substr(seen.size() -
                         std::min(seen.size(), sizeof kCommitReply - 1));
    }
    // Stalled meanwhile: hold what was read until resumed.
    while (stalled_.load() && !stop_.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!SendAll(to, buf, static_cast<size_t>(n))) break;
  }
  link->Close();
}

void FaultProxy::DropAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& link : links_) link->Close();
}

}  // namespace tradestore::testing
