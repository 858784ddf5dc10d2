// A minimal HTTP/1.0 client for the loopback REST APIs the stack drives
// (Patroni's health checks, cluster view and switchover; etcd's health).
// One request a connection, no TLS, no redirects.
//
// Thread-safety: a function; safe from any thread.
#ifndef TRADESTORE_OPS_HTTP_CLIENT_H_
#define TRADESTORE_OPS_HTTP_CLIENT_H_

#include <chrono>
#include <string>

#include "absl/status/statusor.h"

namespace tradestore::ops {

struct HttpRequest {
  std::string method = "GET";
  int port = 0;  // on 127.0.0.1
  std::string path = "/";
  std::string body;            // sent as application/json when not empty
  std::string user, password;  // basic authentication when user is set
  std::chrono::milliseconds timeout{2000};
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// kUnavailable when nothing answers on the port (refused, timed out,
// closed early); any HTTP status is a response.
absl::StatusOr<HttpResponse> Http(const HttpRequest& request);

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_HTTP_CLIENT_H_
