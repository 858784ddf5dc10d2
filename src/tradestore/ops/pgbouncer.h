// PgBouncer as a process of the local stack and the tests: the project's
// tools/postgres/pgbouncer.ini with only ports and paths rewritten, run
// (as the service user when root) with a file-descriptor limit that fits
// its max_client_conn.
//
// Thread-safety: not thread-safe; one owner controls it.
#ifndef TRADESTORE_OPS_PGBOUNCER_H_
#define TRADESTORE_OPS_PGBOUNCER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace tradestore::ops {

// Where a rendered pgbouncer.ini listens, keeps its files and finds its
// server.
struct PgBouncerPlaces {
  int listen_port = 0;
  std::string dir;        // socket, log and pid file
  std::string auth_file;  // the auth_user's entry
  std::string server_host = "127.0.0.1";
  int server_port = 0;
};

// `ini` with listen_port, unix_socket_dir, logfile, pidfile and auth_file
// set to `places`, and each [databases] entry's host and port pointed at
// the server; every other line as it is.
std::string RenderPgBouncerIni(absl::string_view ini,
                               const PgBouncerPlaces& places);

class PgBouncerProcess {
 public:
  // `dir` holds its pid file (pgbouncer.pid) and log; `user` runs it.
  PgBouncerProcess(std::string dir, std::string user)
      : dir_(std::move(dir)), user_(std::move(user)) {}

  // Starts `ini` (a file) daemonised and waits until `port` accepts
  // connections. kInternal with its log when it does not come up.
  absl::Status Start(const std::string& ini, int port);
  // SIGTERM, then SIGKILL after 5 s. A stopped one is fine.
  absl::Status Stop();
  // Its pid, 0 when it is not running.
  int Pid() const;

 private:
  std::string dir_, user_;
};

}  // namespace tradestore::ops

#endif  // TRADESTORE_OPS_PGBOUNCER_H_
