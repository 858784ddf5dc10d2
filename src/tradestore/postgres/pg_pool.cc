#include "tradestore/postgres/pg_pool.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tradestore/internal/backoff.h"
#include "tradestore/internal/socket_watchdog.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/postgres/dsn.h"
#include "tradestore/postgres/pg_connection.h"
#include "tradestore/postgres/pg_test_hooks.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {

namespace {

// Server notices and libpqxx's own warnings go nowhere: errors reach the
// caller as statuses, and notices could echo connection details. One kind
// is remembered: a COMMIT whose wait for the synchronous standby was
// cancelled (a cancel, statement_timeout, a terminated backend) still
// reports success, with a WARNING that the transaction "has already
// committed locally, but might not have been replicated to the standby".
// Such a commit is not acknowledged: a failover may lose it.
class NoticeWatch : public pqxx::errorhandler {
 public:
  explicit NoticeWatch(pqxx::connection_base& c) : pqxx::errorhandler(c) {}
  bool operator()(const char message[]) noexcept override {
    const absl::string_view m(message);
    if (absl::StrContains(m, "synchronous replication") ||
        absl::StrContains(m, "committed locally")) {
      unreplicated = true;
    }
    return false;
  }
  bool unreplicated = false;
};

}  // namespace

struct PgPool::Conn {
  std::unique_ptr<pg::PgConnection> connection;
  std::unique_ptr<NoticeWatch> notices;
  std::chrono::steady_clock::time_point last_used;
};

namespace {

bool LostConnection(const pqxx::sql_error& e) {
  // 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown.
  return absl::StartsWith(e.sqlstate(), "08") ||
         absl::StartsWith(e.sqlstate(), "57P0");
}

absl::Status MapSqlError(const pqxx::sql_error& e, const std::string& text) {
  const std::string& state = e.sqlstate();
  if (state == "23505") return absl::AlreadyExistsError(text);
  if (absl::StartsWith(state, "22") || absl::StartsWith(state, "23")) {
    return absl::InvalidArgumentError(text);
  }
  if (state == "42501") return absl::PermissionDeniedError(text);
  if (state == "42P01" || state == "42703") {
    return absl::FailedPreconditionError(absl::StrCat(
        text, " (is the schema migrated? run: tradestore schema migrate)"));
  }
  if (state == "53300" || absl::StartsWith(state, "08")) {
    return absl::UnavailableError(text);
  }
  if (state == "57014") return absl::DeadlineExceededError(text);
  if (state == "42P10" && absl::StrContains(text, "ON CONFLICT")) {
    // An upsert is refused at planning, before the fence's own message.
    return absl::InternalError(absl::StrCat(
        text,
        " (is a backfill loading trades with its primary key deferred? "
        "writes resume when it has finished)"));
  }
  return absl::InternalError(text);
}

// A connection refused for a reason that the same DSN meets again, so
// retrying cannot help: the code to fail with at once and a hint, or
// kUnavailable (retry). libpq has no SQLSTATE before a connection exists;
// its text tells (several hosts give a line each).
struct ConnectFailure {
  absl::StatusCode code;
  const char* hint;
};

ConnectFailure ClassifyConnectFailure(absl::string_view message, bool opening) {
  using C = absl::StatusCode;
  // No socket file: no server at that path (a wrong host or port), or one
  // restarting. At open the first is likelier; later, the second.
  if (opening && absl::StrContains(message, "on socket") &&
      absl::StrContains(message, "No such file or directory")) {
    return {C::kFailedPrecondition,
            "no Postgres listens on that socket: check the DSN's host and "
            "port (or PGHOST, PGPORT), or start the server"};
  }
  static constexpr struct {
    const char* text;
    C code;
    const char* hint;
  } kPermanent[] = {
      {"password authentication failed", C::kPermissionDenied,
       "check the user and password (PGPASSFILE or ~/.pgpass)"},
      {"authentication failed", C::kPermissionDenied,
       "check the user and how pg_hba.conf authenticates it"},
      {"no pg_hba.conf entry", C::kPermissionDenied,
       "pg_hba.conf has no entry for this host, user and database"},
      {"no password supplied", C::kPermissionDenied,
       "give a password (PGPASSFILE or ~/.pgpass)"},
      {"does not exist", C::kFailedPrecondition,
       "create the role or database, or fix the DSN"},
      {"Name or service not known", C::kFailedPrecondition,
       "the host name is unknown"},
      {"invalid sslmode value", C::kInvalidArgument, "fix the DSN"},
      {"invalid integer value", C::kInvalidArgument, "fix the DSN"},
      {"invalid port number", C::kInvalidArgument, "fix the DSN"},
      {"invalid target_session_attrs value", C::kInvalidArgument,
       "fix the DSN"},
      {"server does not support SSL", C::kFailedPrecondition,
       "the server has TLS off: lower sslmode or turn ssl on"},
      {"certificate", C::kFailedPrecondition,
       "check sslrootcert and the server's certificate"},
  };
  for (const auto& p : kPermanent) {
    if (absl::StrContains(message, p.text)) return {p.code, p.hint};
  }
  return {C::kUnavailable, nullptr};
}

}  // namespace

absl::Status pg::StatusFromPqxx(const std::exception& e, bool committing,
                                const PgPool& pool) {
  const std::string text =
      absl::StrCat("postgres ", pool.masked_dsn(), ": ", pool.Scrub(e.what()));
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return absl::UnknownError(absl::StrCat("commit outcome unknown: ", text));
  }
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  const bool broken = dynamic_cast<const pqxx::broken_connection*>(&e) ||
                      (sql != nullptr && LostConnection(*sql));
  if (broken) {
    return committing ? absl::UnknownError(
                            absl::StrCat("commit outcome unknown: ", text))
                      : absl::UnavailableError(text);
  }
  if (dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr) {
    return absl::AbortedError(text);
  }
  if (sql != nullptr) return MapSqlError(*sql, text);
  return absl::InternalError(text);
}

PgPool::PgPool(const PgOptions& options, std::string dsn, std::string password)
    : options_(options),
      dsn_(std::move(dsn)),
      password_(std::move(password)),
      masked_dsn_(MaskDsn(options.dsn)),
      clock_(options.clock != nullptr ? options.clock : Clock::Real()) {}

PgPool::~PgPool() = default;

std::string ConnectionDsn(const PgOptions& options) {
  std::string dsn = options.dsn;
  if (std::getenv("PGCONNECT_TIMEOUT") == nullptr) {
    dsn = WithDsnDefault(dsn, "connect_timeout",
                         std::to_string(options.connect_timeout_s));
  }
  if (std::getenv("PGAPPNAME") == nullptr) {
    dsn = WithDsnDefault(dsn, "application_name", options.application_name);
  }
  if (const int t = options.dead_peer_timeout_s; t > 0) {
    // Idle for a third of it, then three probes half a third apart.
    dsn = WithDsnDefault(dsn, "keepalives", "1");
    dsn = WithDsnDefault(dsn, "keepalives_idle",
                         std::to_string(std::max(1, t / 3)));
    dsn = WithDsnDefault(dsn, "keepalives_interval",
                         std::to_string(std::max(1, t / 6)));
    dsn = WithDsnDefault(dsn, "keepalives_count", "3");
    dsn = WithDsnDefault(dsn, "tcp_user_timeout", std::to_string(t * 1000));
  }
  return dsn;
}

absl::StatusOr<std::unique_ptr<PgPool>> PgPool::Create(
    const PgOptions& options) {
  auto password = DsnPassword(options.dsn);
  if (!password.ok()) return password.status();
  std::unique_ptr<PgPool> pool(
      new PgPool(options, ConnectionDsn(options), *std::move(password)));
  if (!options.connect_at_open) return pool;
  Backoff backoff(options.backoff, pool->clock_, pool->shut_down());
  pool->opening_ = true;
  auto conn = pool->Acquire(backoff);
  pool->opening_ = false;
  if (!conn.ok()) return conn.status();
  pool->Release(*std::move(conn));
  return pool;
}

std::string PgPool::Scrub(const std::string& message) const {
  return ScrubSecret(message, password_);
}

absl::StatusOr<std::unique_ptr<PgPool::Conn>> PgPool::Connect() {
  auto conn = std::make_unique<Conn>();
  try {
    conn->connection = std::make_unique<pg::PgConnection>(dsn_);
    conn->notices = std::make_unique<NoticeWatch>(*conn->connection);
  } catch (const std::exception& e) {
    const std::string text = Scrub(e.what());
    const ConnectFailure failure = ClassifyConnectFailure(text, opening_);
    return absl::Status(
        failure.code,
        absl::StrCat("cannot connect to postgres ", masked_dsn_, ": ", text,
                     failure.hint != nullptr
                         ? absl::StrCat(" (not retried: ", failure.hint, ")")
                         : ""));
  }
  // Short reads through the pool use binary COPY too.
  TS_RETURN_IF_ERROR(
      pg::RequireUtf8Server(conn->connection->raw(), masked_dsn_));
  conn->last_used = clock_->Monotonic();
  return conn;
}

bool PgPool::Healthy(Conn& conn) {
  if (!conn.connection->is_open()) return false;
  if (clock_->Monotonic() - conn.last_used < options_.health_check_after_idle) {
    return true;
  }
  internal::SocketGuard guard(conn.connection->sock(), CallLimit());
  try {
    pqxx::nontransaction probe(*conn.connection);
    probe.exec("SELECT 1");
    return !guard.Disarm();
  } catch (const std::exception&) {
    guard.Disarm();
    return false;
  }
}

absl::StatusOr<std::unique_ptr<PgPool::Conn>> PgPool::Acquire(
    Backoff& backoff) {
  for (;;) {
    std::unique_ptr<Conn> conn;
    {
      internal::ScopedLock lock(mu_);
      const auto free = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return shut_down_ || !idle_.empty() ||
               open_ < std::max(1, options_.pool_size);
      };
      if (!free()) {
        waits_.fetch_add(1);
        mu_.Await(released_, free);
      }
      if (shut_down_) {
        return absl::UnavailableError(absl::StrCat(
            "postgres ", masked_dsn_, ": the store is being closed"));
      }
      if (!idle_.empty()) {
        conn = std::move(idle_.back());
        idle_.pop_back();
      } else {
        ++open_;
      }
    }
    if (conn != nullptr) {
      if (Healthy(*conn)) return conn;
      conn.reset();  // broken: reconnect in its slot below
    }
    auto fresh = Connect();
    if (fresh.ok()) {
      connects_.fetch_add(1);
      return fresh;
    }
    connect_failures_.fetch_add(1);
    Discard();
    // Refused for good (credentials, configuration, a database in another
    // encoding): no point retrying.
    if (!absl::IsUnavailable(fresh.status())) return fresh.status();
    if (!backoff.Wait()) {
      return absl::UnavailableError(
          absl::StrCat(fresh.status().message(), " (gave up after ",
                       backoff.attempts() + 1, " attempts in ",
                       std::chrono::duration_cast<std::chrono::milliseconds>(
                           backoff.elapsed())
                           .count(),
                       " ms)"));
    }
    Retried(fresh.status(), backoff);
  }
}

void PgPool::Retried(const absl::Status& why, const Backoff& backoff) {
  retries_.fetch_add(1);
  if (options_.on_retry) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    options_.on_retry(why, backoff.attempts(),
                      duration_cast<milliseconds>(backoff.last_delay()),
                      duration_cast<milliseconds>(backoff.elapsed()));
  }
}

PgPoolStats PgPool::stats() const {
  return {connects_.load(), connect_failures_.load(), retries_.load(),
          waits_.load()};
}

void PgPool::Shutdown() {
  {
    internal::ScopedLock lock(mu_);
    shut_down_ = true;
  }
  released_.notify_all();
}

void PgPool::Release(std::unique_ptr<Conn> conn) {
  conn->last_used = clock_->Monotonic();
  {
    internal::ScopedLock lock(mu_);
    idle_.push_back(std::move(conn));
  }
  released_.notify_one();
}

void PgPool::Discard() {
  {
    internal::ScopedLock lock(mu_);
    --open_;
  }
  released_.notify_one();
}

absl::Status PgPool::AfterCommit(Conn& conn, bool* ack_lost) {
  if (conn.notices->unreplicated) {
    return absl::UnknownError(
        "commit outcome unknown: committed on the primary, but its wait for "
        "the synchronous standby was cancelled, so a failover may lose it");
  }
  if (options_.hooks != nullptr && options_.hooks->lose_commit_ack &&
      options_.hooks->lose_commit_ack()) {
    *ack_lost = true;
    return absl::UnknownError(
        "commit outcome unknown: acknowledgement lost (test hook)");
  }
  return absl::OkStatus();
}

absl::Status PgPool::Failed(const std::exception& e, bool committing_write,
                            bool timed_out, Conn& conn) {
  absl::Status status = pg::StatusFromPqxx(e, committing_write, *this);
  if (timed_out) {
    status = absl::Status(
        absl::IsUnknown(status) ? status.code()
                                : absl::StatusCode::kUnavailable,
        absl::StrCat("postgres ", masked_dsn_, " did not answer within ",
                     options_.call_timeout_s,
                     " s (call_timeout): connection ended; ",
                     status.message()));
  }
  // A server that is read-only now (a leader demoted, a replica behind a
  // proxy that has not noticed yet): refused before anything was written,
  // so another connection may try again.
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (sql != nullptr && sql->sqlstate() == "25006") {
    conn.connection->disconnect();
    status = absl::UnavailableError(status.message());
  }
  // A lost connection (or the server saying it ended it, 57P01 and the
  // like) may still look open when libpq has not seen the socket close
  // yet. Drop it, so the retry takes a fresh one instead of giving up.
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr ||
      (sql != nullptr && LostConnection(*sql))) {
    conn.connection->disconnect();
  }
  return status;
}

template <typename Txn, typename Body>
absl::Status PgPool::Run(const Body& body, Kind kind, bool bounded) {
  Backoff backoff(options_.backoff, clock_, shut_down());
  for (;;) {
    auto acquired = Acquire(backoff);
    if (!acquired.ok()) return acquired.status();
    std::unique_ptr<Conn> conn = *std::move(acquired);
    bool committing = false;
    bool ack_lost = false;
    absl::Status status;
    internal::SocketGuard guard(
        conn->connection->sock(),
        bounded ? CallLimit() : std::chrono::milliseconds(0));
    try {
      Txn txn(*conn->connection);
      status = body(txn);
      if (status.ok()) {
        if (options_.hooks != nullptr && options_.hooks->before_commit) {
          options_.hooks->before_commit(conn->connection->backendpid());
        }
        committing = true;
        conn->notices->unreplicated = false;
        txn.commit();
        status = AfterCommit(*conn, &ack_lost);
      }
      // An error from the body: ~work rolls back (it never throws).
    } catch (const std::exception& e) {
      const bool timed_out = guard.Disarm();
      status = Failed(e, committing && kind == Kind::kWrite, timed_out, *conn);
    }
    // Before the connection goes back to the pool: a late shutdown would
    // end the next borrower's call.
    if (guard.Disarm()) conn->connection->disconnect();
    // Repeating is harmless for these, so "unknown" is "try again".
    const bool settle_by_repeating =
        kind != Kind::kWrite && absl::IsUnknown(status);
    if (settle_by_repeating) status = absl::UnavailableError(status.message());
    // A connection that lost an acknowledgement is not trusted again.
    const bool open = !ack_lost && conn->connection->is_open();
    if (open) {
      Release(std::move(conn));
    } else {
      conn.reset();
      Discard();
    }
    const bool retry =
        (absl::IsUnavailable(status) && (!open || settle_by_repeating)) ||
        absl::IsAborted(status);
    if (!retry) return status;
    if (!backoff.Wait()) {
      return absl::Status(
          status.code(),
          absl::StrCat(status.message(),
                       shut_down_ ? " (the store is being closed)"
                                  : " (retried until the deadline)"));
    }
    Retried(status, backoff);
  }
}

namespace pg {

class PoolRunner {
 public:
  static absl::Status Transact(PgPool& pool, const TxnBody& body,
                               PgPool::Kind kind, Bound bound) {
    return pool.Run<pqxx::work>(body, kind, bound == Bound::kCallTimeout);
  }
  static absl::Status ReadEach(PgPool& pool, const ReadBody& body,
                               Bound bound) {
    return pool.Run<pqxx::nontransaction>(body, PgPool::Kind::kRead,
                                          bound == Bound::kCallTimeout);
  }
};

absl::Status Transact(PgPool& pool, const TxnBody& body, PgPool::Kind kind,
                      Bound bound) {
  return PoolRunner::Transact(pool, body, kind, bound);
}

absl::Status ReadEach(PgPool& pool, const ReadBody& body, Bound bound) {
  return PoolRunner::ReadEach(pool, body, bound);
}

}  // namespace pg

}  // namespace tradestore
