// The local stack as an operator starts it: the project's pgbouncer.ini in
// front of a Postgres primary, SCRAM through auth_query, pooling that holds
// 1,000 clients on 25 server connections, and nothing left running after
// `stack down`.
#include "tradestore/ops/stack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/ops_environment.h"
#include "testing/stack_guard.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore::ops {
namespace {

using ::testing::HasSubstr;

// The binary's stack (testing/ops_environment.h).
class StackTest : public ::testing::Test {
 protected:
  const StackStatus* status_ = &testing::OpsEnvironment::Get().stack();

  // A value of Postgres, asked as the superuser.
  std::string Ask(const std::string& sql) {
    PGconn* conn = PQconnectdb(status_->admin_dsn.c_str());
    PGresult* r = PQexec(conn, sql.c_str());
    std::string value = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0
                            ? PQgetvalue(r, 0, 0)
                            : std::string("error: ") + PQerrorMessage(conn);
    PQclear(r);
    PQfinish(conn);
    return value;
  }
};

TEST_F(StackTest, StatusNamesEveryPartAndTheStoreWorksThroughPgBouncer) {
  auto status = GetStackStatus(status_->dir);
  TS_ASSERT_OK(status);
  EXPECT_TRUE(status->running());
  EXPECT_GT(status->postgres_pid, 0);
  EXPECT_GT(status->pgbouncer_pid, 0);
  const nlohmann::json j = nlohmann::json::parse(status->ToJson());
  for (const char* key : {"pgbouncer_dsn", "primary_dsn", "data_dir"}) {
    EXPECT_FALSE(j[key].get<std::string>().empty()) << key;
  }
  EXPECT_EQ(j["postgres"]["pid"], status->postgres_pid);
  EXPECT_EQ(j["pgbouncer"]["pid"], status->pgbouncer_pid);
  // No password in what status prints: the DSNs name the password file.
  EXPECT_THAT(status->pgbouncer_dsn, HasSubstr("passfile="));
  EXPECT_THAT(status->ToJson(), ::testing::Not(HasSubstr("password")));

  PgOptions options;
  options.dsn = status->pgbouncer_dsn;
  auto store = PgTradeStore::Open(options);  // migrates, through PgBouncer
  ASSERT_TRUE(store.ok()) << store.status();
  auto inserted = (*store)->Insert(tradestore::testing::SampleTrade());
  TS_ASSERT_OK(inserted);
  EXPECT_EQ((*store)->Get(inserted->trade.id)->price,
            tradestore::testing::SampleTrade().price);
}

TEST_F(StackTest, ScramThroughAuthQueryAndAWrongPasswordFailsAtOnce) {
  PgOptions wrong;
  wrong.dsn = absl::StrCat("host=127.0.0.1 port=", status_->pgbouncer_port,
                           " dbname=trades user=tradestore_app "
                           "password=not-the-one");
  auto refused = PgTradeStore::Open(wrong);
  TS_EXPECT_CODE(refused, absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::Not(HasSubstr("not-the-one")));
  // The auth file holds PgBouncer's own two roles, no application user.
  const std::string text =
      internal::ReadWholeFile(status_->dir + "/bouncer/userlist.txt");
  EXPECT_THAT(text, HasSubstr("pgbouncer_auth"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("tradestore_app")));
}

// 1,000 clients connected through PgBouncer at once, each running a query
// while the others hold their connections: Postgres sees at most the
// pool's 25 server connections for them. The clients are pgbench's, one
// thread that connects all of them before any runs its query: in this
// binary each SCRAM login costs seconds of CPU under a sanitizer.
TEST_F(StackTest, AThousandClientsHoldOnTwentyFiveBackends) {
  testing::TempDir dir(0711);
  const std::string script = dir.File("sleep.sql");
  std::ofstream(script) << "SELECT pg_sleep(0.01);\n";
  auto run =
      internal::RunCommand({FindPostgresBinDir() + "/pgbench", "--no-vacuum",
                            "--client=1000", "--jobs=1", "--transactions=1",
                            "--file=" + script, status_->pgbouncer_dsn});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(run->exit_code, 0) << run->output;
  EXPECT_THAT(run->out, HasSubstr("number of transactions actually processed: "
                                  "1000/1000"));
  EXPECT_THAT(run->out, HasSubstr("number of failed transactions: 0 "));
  const int backends =
      std::stoi(Ask("SELECT count(*) FROM pg_stat_activity WHERE usename = "
                    "'tradestore_app' AND backend_type = 'client backend'"));
  EXPECT_GT(backends, 0);
  EXPECT_LE(backends, 25);
}

TEST(StackLifecycleTest, DownLeavesNothingRunningAndUpRefusesABusyDir) {
  testing::TempDir dir(0711);
  std::ostringstream log;
  const std::string where = dir.File("s");
  testing::GuardStack(where);
  std::ostringstream out, err;
  ASSERT_EQ(cli::RunCli({"stack", "up", "--dir", where, "--json"}, out, err), 0)
      << err.str();
  const nlohmann::json j = nlohmann::json::parse(out.str());
  const int pg_pid = j["postgres"]["pid"].get<int>();
  const int bouncer_pid = j["pgbouncer"]["pid"].get<int>();
  EXPECT_TRUE(internal::ProcessAlive(pg_pid));
  // A second stack in the same place is refused; the first keeps running.
  TS_EXPECT_CODE(StackUp({.dir = where}, log),
                 absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(internal::ProcessAlive(bouncer_pid));
  std::ostringstream down_out, down_err;
  EXPECT_EQ(cli::RunCli({"stack", "down", "--dir", where}, down_out, down_err),
            0)
      << down_err.str();
  EXPECT_FALSE(internal::ProcessAlive(pg_pid));
  EXPECT_FALSE(internal::ProcessAlive(bouncer_pid));
  std::ostringstream status_out, status_err;
  EXPECT_EQ(
      cli::RunCli({"stack", "status", "--dir", where}, status_out, status_err),
      1);
  EXPECT_THAT(status_out.str(), HasSubstr("STOPPED"));
  EXPECT_TRUE(StackDown(where, /*remove=*/true, log).ok());
}

}  // namespace
}  // namespace tradestore::ops
