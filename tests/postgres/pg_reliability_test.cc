// Reconnects, unknown commit outcomes and secrets, against the real server
// and PgBouncer started by the harness.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "testing/counting_clock.h"
#include "testing/pg_environment.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/internal/process.h"
#include "tradestore/postgres/pg_binary_copy.h"
#include "tradestore/postgres/pg_pool.h"
#include "tradestore/postgres/pg_test_hooks.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/postgres/pg_transact.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;

using testing::SampleTrade;

std::unique_ptr<PgTradeStore> OpenStore(PgOptions options) {
  auto store = PgTradeStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(PgReliabilityTest, ReconnectsAfterAPostgresCrashAndRestart) {
  auto& env = PgEnvironment::Get();
  auto store =
      OpenStore(TestPgOptions(env.pg().Dsn(env.FreshMigratedDatabase())));
  ASSERT_NE(store, nullptr);
  TS_ASSERT_OK(store->Insert(SampleTrade()));
  TS_ASSERT_OK(env.pg().StopServer(/*immediate=*/true));
  TS_ASSERT_OK(env.pg().StartServer());
  // The pooled connection is dead; the store notices and reconnects.
  auto after = store->Insert(SampleTrade());
  TS_ASSERT_OK(after);
  EXPECT_EQ(*store->Count(), 2);
}

TEST(PgReliabilityTest, SurvivesAPgBouncerRestart) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshMigratedDatabase();
  auto store = OpenStore(TestPgOptions(env.pg().BouncerDsn(db)));
  ASSERT_NE(store, nullptr);
  TS_ASSERT_OK(store->Insert(SampleTrade()));
  TS_ASSERT_OK(env.pg().StopBouncer());
  TS_ASSERT_OK(env.pg().StartBouncer());
  TS_ASSERT_OK(store->Insert(SampleTrade()));
  EXPECT_EQ(*store->Count(), 2);
}

TEST(PgReliabilityTest,
     UnreachableIsUnavailableAfterTheDeadlineAndHidesThePassword) {
  auto port = internal::FreeLoopbackPort();
  TS_ASSERT_OK(port);
  for (const std::string& dsn :
       {absl::StrCat("host=127.0.0.1 port=", *port,
                     " dbname=x user=u password=TopSecret-42"),
        absl::StrCat("postgresql://u:TopSecret-42@127.0.0.1:", *port, "/x")}) {
    PgOptions options = TestPgOptions(dsn);
    options.backoff.deadline = std::chrono::milliseconds(300);
    auto pool = PgPool::Create(options);
    TS_EXPECT_CODE(pool, absl::StatusCode::kUnavailable);
    const std::string message(pool.status().message());
    EXPECT_EQ(message.find("TopSecret-42"), std::string::npos) << message;
    EXPECT_NE(message.find("***"), std::string::npos) << message;
    EXPECT_NE(message.find("gave up after"), std::string::npos) << message;
  }
}

TEST(PgReliabilityTest, PasswordAuthWorksAndAWrongPasswordIsNeverShown) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshMigratedDatabase();
  // Its DSN is built below, without the password, to try wrong ones.
  testing::PasswordRole(db, "pw_app", "Right-Pass-1",
                        "GRANT SELECT, INSERT, UPDATE ON trades, "
                        "schema_migrations TO pw_app; GRANT USAGE ON SEQUENCE "
                        "trades_id_seq TO pw_app;");
  const std::string base =
      absl::StrCat("host=127.0.0.1 port=", env.pg().port(), " dbname=", db,
                   " user=pw_app sslmode=prefer");
  // A least-privilege role (no DDL) can use the store.
  auto store = OpenStore(TestPgOptions(base + " password=Right-Pass-1"));
  ASSERT_NE(store, nullptr);
  TS_EXPECT_OK(store->Insert(SampleTrade()));

  // A wrong password fails at once: retrying cannot cure it.
  PgOptions wrong = TestPgOptions(base + " password=Wrong-Pass-77");
  testing::CountingClock clock;
  wrong.clock = &clock;
  auto refused = PgTradeStore::Open(wrong);
  TS_EXPECT_CODE(refused, absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(clock.waits(), 0);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("not retried"));
  EXPECT_EQ(std::string(refused.status().message()).find("Wrong-Pass-77"),
            std::string::npos)
      << refused.status();
}

// What the same DSN meets again on every attempt is not retried.
TEST(PgReliabilityTest, ConfigurationErrorsFailAtOnce) {
  auto& env = PgEnvironment::Get();
  const std::string base =
      absl::StrCat("host=127.0.0.1 port=", env.pg().port(), " user=postgres");
  testing::TempDir no_server;
  const struct {
    std::string dsn;
    absl::StatusCode code;
  } cases[] = {
      {base + " dbname=postgres sslmode=bogus",
       absl::StatusCode::kInvalidArgument},
      {"host=127.0.0.1 port=notaport dbname=postgres",
       absl::StatusCode::kInvalidArgument},
      {base + " dbname=no_such_database",
       absl::StatusCode::kFailedPrecondition},
      {absl::StrCat("host=127.0.0.1 port=", env.pg().port(),
                    " user=no_such_role dbname=postgres"),
       absl::StatusCode::kFailedPrecondition},
      // A directory with no server's socket in it.
      {absl::StrCat("host=", no_server.path(), " port=", env.pg().port(),
                    " dbname=postgres"),
       absl::StatusCode::kFailedPrecondition},
  };
  for (const auto& c : cases) {
    PgOptions options = TestPgOptions(c.dsn);
    testing::CountingClock clock;
    options.clock = &clock;
    auto pool = PgPool::Create(options);
    TS_EXPECT_CODE(pool, c.code) << c.dsn;
    EXPECT_EQ(clock.waits(), 0) << c.dsn;
  }
}

TEST(PgReliabilityTest, LostCommitAcknowledgementIsResolvedByLookup) {
  auto& env = PgEnvironment::Get();
  int lose = 0;
  PgTestHooks hooks;
  hooks.lose_commit_ack = [&] { return lose-- > 0; };
  PgOptions options = TestPgOptions(env.pg().Dsn(env.FreshMigratedDatabase()));
  options.hooks = &hooks;
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  lose = 1;
  auto inserted = store->Insert(SampleTrade());  // committed, ack "lost"
  TS_ASSERT_OK(inserted);
  EXPECT_TRUE(inserted->created);
  EXPECT_EQ(*store->Count(), 1);  // resolved by lookup, not by a second insert

  lose = 1;
  auto updated = store->UpdateStatus(inserted->trade.id, TradeStatus::kFilled);
  TS_ASSERT_OK(updated);
  EXPECT_EQ(updated->version, 2);  // not applied twice
}

TEST(PgReliabilityTest, ConnectionKilledJustBeforeCommitIsRetriedSafely) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshMigratedDatabase();
  int kills = 0;
  PgTestHooks hooks;
  hooks.before_commit = [&](int pid) {
    if (kills-- > 0) {
      auto killed = env.pg().Psql(
          db, absl::StrCat("SELECT pg_terminate_backend(", pid, ", 5000)"));
      EXPECT_TRUE(killed.ok()) << killed.status();
    }
  };
  PgOptions options = TestPgOptions(env.pg().Dsn(db));
  options.hooks = &hooks;
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  kills = 1;
  Trade t = SampleTrade();
  t.id = 500;  // no id reservation: the kill hits the insert itself
  auto inserted = store->Insert(t);
  TS_ASSERT_OK(inserted);
  EXPECT_TRUE(inserted->created);
  EXPECT_EQ(inserted->trade.id, 500);
  EXPECT_LT(kills, 0);  // the first commit was killed, later ones ran
  EXPECT_EQ(*store->Count(), 1);
}

TEST(PgReliabilityTest,
     ReadEachRunsStatementsOnTheirOwnAndRetriesALostConnection) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshMigratedDatabase();
  auto pool = PgPool::Create(TestPgOptions(env.pg().Dsn(db)));
  TS_ASSERT_OK(pool);
  int attempts = 0;
  int64_t first_xid = 0;
  int64_t second_xid = 0;
  TS_ASSERT_OK(pg::ReadEach(**pool, [&](pqxx::transaction_base& txn) {
    if (++attempts == 1) {
      const int pid = txn.exec("SELECT pg_backend_pid()")[0][0].as<int>();
      auto killed = env.pg().Psql(
          db, absl::StrCat("SELECT pg_terminate_backend(", pid, ", 5000)"));
      EXPECT_TRUE(killed.ok()) << killed.status();
    }
    // Each statement is a transaction of its own: two transaction ids.
    first_xid = txn.exec("SELECT txid_current()")[0][0].as<int64_t>();
    second_xid = txn.exec("SELECT txid_current()")[0][0].as<int64_t>();
    return absl::OkStatus();
  }));
  EXPECT_EQ(attempts, 2);  // the killed connection was replaced
  EXPECT_LT(first_xid, second_xid);
}

TEST(PgReliabilityTest,
     ADatabaseNotInUtf8IsRefusedAtOnceByThePoolAndTheCopyReader) {
  auto& env = PgEnvironment::Get();
  TS_ASSERT_OK(env.pg().Psql("postgres",
                             "CREATE DATABASE latin1_store ENCODING 'LATIN1' "
                             "LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"));
  PgOptions options = TestPgOptions(env.pg().Dsn("latin1_store"));
  options.connect_at_open = false;
  testing::CountingClock clock;
  options.clock = &clock;
  auto pool = PgPool::Create(options);
  TS_ASSERT_OK(pool);
  const absl::Status read = pg::ReadEach(
      **pool, [](pqxx::transaction_base&) { return absl::OkStatus(); });
  EXPECT_TRUE(absl::IsFailedPrecondition(read)) << read;
  EXPECT_THAT(std::string(read.message()), ::testing::HasSubstr("LATIN1"));
  auto reader = pg::BinaryCopyReader::Open(**pool);
  EXPECT_TRUE(absl::IsFailedPrecondition(reader.status())) << reader.status();
  // Refused, not retried: no backoff wait was asked for.
  EXPECT_EQ(clock.waits(), 0);
}

TEST(PgReliabilityTest, SeveralHostsWithTargetSessionAttrs) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshMigratedDatabase();
  auto dead = internal::FreeLoopbackPort();
  TS_ASSERT_OK(dead);
  auto store = OpenStore(TestPgOptions(absl::StrCat(
      "host=127.0.0.1,127.0.0.1 port=", *dead, ",", env.pg().port(),
      " dbname=", db, " user=postgres target_session_attrs=read-write")));
  ASSERT_NE(store, nullptr);
  TS_EXPECT_OK(store->Insert(SampleTrade()));
}

TEST(PgReliabilityTest, EmptyDsnUsesThePgEnvironment) {
  auto& env = PgEnvironment::Get();
  const std::string db = env.FreshMigratedDatabase();
  setenv("PGHOST", "127.0.0.1", 1);
  setenv("PGPORT", std::to_string(env.pg().port()).c_str(), 1);
  setenv("PGDATABASE", db.c_str(), 1);
  setenv("PGUSER", "postgres", 1);
  auto store = OpenStore(TestPgOptions(""));
  for (const char* v : {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER"})
    unsetenv(v);
  ASSERT_NE(store, nullptr);
  TS_EXPECT_OK(store->Insert(SampleTrade()));
}

// True when the pool's connection runs over TLS.
absl::StatusOr<bool> UsesTls(PgPool& pool) {
  bool ssl = false;
  absl::Status s = pg::Transact(pool, [&](pqxx::work& txn) {
    ssl =
        txn.exec(
               "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")[0][0]
            .as<bool>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return ssl;
}

TEST(PgReliabilityTest, TlsWithSslModeRequireAndVerifyFull) {
  auto& env = PgEnvironment::Get();
  auto required =
      PgPool::Create(TestPgOptions(env.pg().Dsn() + " sslmode=require"));
  TS_ASSERT_OK(required);
  EXPECT_TRUE(*UsesTls(**required));

  const std::string verify =
      absl::StrCat("host=localhost hostaddr=127.0.0.1 port=", env.pg().port(),
                   " dbname=postgres user=postgres sslmode=verify-full");
  auto verified = PgPool::Create(
      TestPgOptions(verify + " sslrootcert=" + env.pg().ServerCertPath()));
  TS_ASSERT_OK(verified);
  EXPECT_TRUE(*UsesTls(**verified));

  // A root the server's certificate does not chain to is refused, clearly.
  testing::TempDir dir;
  TS_ASSERT_OK(internal::RunChecked(
      {"openssl", "req", "-new", "-x509", "-days", "1", "-nodes", "-subj",
       "/CN=someone-else", "-newkey", "rsa:2048", "-keyout",
       dir.File("other.key"), "-out", dir.File("other.crt")}));
  PgOptions untrusted =
      TestPgOptions(verify + " sslrootcert=" + dir.File("other.crt"));
  testing::CountingClock clock;
  untrusted.clock = &clock;
  auto refused = PgPool::Create(untrusted);
  TS_EXPECT_CODE(refused, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(clock.waits(), 0);
  EXPECT_NE(refused.status().message().find("certificate"), std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace tradestore
