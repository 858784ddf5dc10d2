// The HA stack itself (issue 22): what `stack status` reports of it, and
// that each of its ports reaches what it should.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "nlohmann/json.hpp"
#include "testing/ha_environment.h"
#include "testing/status_matchers.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/internal/process.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore {
namespace {

using testing::HaEnvironment;

TEST(HaStackTest, StatusNamesEveryNodeWithItsRoleAndLag) {
  auto& env = HaEnvironment::Get();
  env.WaitHealthy();
  std::ostringstream out, err;
  ASSERT_EQ(
      cli::RunCli({"stack", "status", "--dir", env.dir(), "--json"}, out, err),
      0)
      << out.str() << err.str();
  const nlohmann::json j = nlohmann::json::parse(out.str());
  EXPECT_TRUE(j["ha"].get<bool>());
  for (const char* key : {"pgbouncer_dsn", "primary_dsn", "replica_dsn"}) {
    EXPECT_TRUE(j[key].is_string() && !j[key].get<std::string>().empty())
        << key;
  }
  ASSERT_EQ(j["nodes"].size(), 3u);
  std::multiset<std::string> roles;
  std::set<int> ports;
  for (const auto& n : j["nodes"]) {
    roles.insert(n["role"].get<std::string>());
    ports.insert(n["pg_port"].get<int>());
    ports.insert(n["api_port"].get<int>());
    EXPECT_GT(n["postmaster_pid"].get<int>(), 0) << n.dump();
    EXPECT_TRUE(n["lag_bytes"].is_number()) << n.dump();
  }
  EXPECT_EQ(roles,
            (std::multiset<std::string>{"leader", "replica", "sync_standby"}));
  EXPECT_EQ(ports.size(), 6u);
  // No password anywhere in the status.
  EXPECT_EQ(out.str().find("password"), std::string::npos);
}

TEST(HaStackTest, ThePortsReachTheLeaderAndTheReplicas) {
  auto& env = HaEnvironment::Get();
  const ops::StackStatus s = env.WaitHealthy();
  EXPECT_EQ(env.Sql(s.primary_dsn, "SELECT pg_is_in_recovery()"), "f\n");
  EXPECT_EQ(env.Sql(s.pgbouncer_dsn, "SELECT pg_is_in_recovery()"), "f\n");
  EXPECT_EQ(env.Sql(s.replica_dsn, "SELECT pg_is_in_recovery()"), "t\n");
  // The leader runs synchronous replication to one standby.
  EXPECT_EQ(env.Sql(s.admin_dsn,
                    "SELECT count(*) FROM pg_stat_replication WHERE "
                    "sync_state = 'sync'"),
            "1\n");

  PgOptions o;
  o.dsn = s.pgbouncer_dsn;
  auto store = PgTradeStore::Open(o);
  ASSERT_TRUE(store.ok()) << store.status();
  Trade t = testing::SampleTrade();
  t.client_order_id = "ha-ports-1";
  auto inserted = (*store)->Insert(t);
  ASSERT_TRUE(inserted.ok()) << inserted.status();
  // A replica shows it once it has replayed that far.
  const std::string sql = absl::StrCat(
      "SELECT count(*) FROM trades WHERE id = ", inserted->trade.id);
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (env.Sql(s.replica_dsn, sql) != "1\n" &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(env.Sql(s.replica_dsn, sql), "1\n");
  // A write through the replica port is refused: it is read-only.
  auto r = internal::RunCommand({"psql", "-X", "-d", s.replica_dsn, "-c",
                                 "DELETE FROM trades WHERE false"});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->exit_code, 0);
  EXPECT_NE(r->output.find("read-only"), std::string::npos) << r->output;
}

TEST(HaStackTest, StatusShowsEachStandbysLagAndItsMetrics) {
  auto& env = HaEnvironment::Get();
  const ops::StackStatus s = env.WaitHealthy();
  const std::string dir = env.NewDir();
  const std::string admin =
      absl::StrReplaceAll(s.admin_dsn, {{"dbname=postgres", "dbname=trades"}});
  // Exit 1: no backup or drill is recorded on this stack. A node that just
  // rejoined may still be catching up: look again until both stream.
  std::ostringstream out, err;
  nlohmann::json j;
  const auto until = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  do {
    out.str("");
    err.str("");
    EXPECT_EQ(cli::RunCli({"status", "--pg", admin, "--json", dir + "/s.json",
                           "--prom", dir + "/s.prom"},
                          out, err),
              1)
        << out.str() << err.str();
    j = nlohmann::json::parse(internal::ReadWholeFile(dir + "/s.json"));
  } while (j["replication"]["streaming"] != 2 &&
           std::chrono::steady_clock::now() < until);
  const nlohmann::json& r = j["replication"];
  EXPECT_FALSE(r["in_recovery"].get<bool>());
  EXPECT_TRUE(r["synchronous"].get<bool>());
  EXPECT_EQ(r["streaming"].get<int>(), 2) << r.dump();
  EXPECT_EQ(r["sync_standbys"].get<int>(), 1) << r.dump();
  for (const auto& standby : r["standbys"]) {
    EXPECT_TRUE(standby["lag_bytes"].is_number()) << standby.dump();
  }
  for (const auto& a : j["attention"]) {
    EXPECT_EQ(a.get<std::string>().find("standby"), std::string::npos) << a;
  }
  const std::string prom = internal::ReadWholeFile(dir + "/s.prom");
  EXPECT_NE(prom.find("tradestore_replication_sync_standbys 1\n"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("tradestore_replication_lag_bytes{standby=\"node"),
            std::string::npos)
      << prom;
  EXPECT_NE(out.str().find("2 streaming, 1 synchronous"), std::string::npos)
      << out.str();

  // The application's role does not see the standbys' lag: status says so
  // instead of reporting them healthy.
  std::ostringstream app_out, app_err;
  cli::RunCli({"status", "--pg", s.pgbouncer_dsn}, app_out, app_err);
  EXPECT_NE(app_out.str().find("grant it pg_monitor"), std::string::npos)
      << app_out.str() << app_err.str();
}

}  // namespace
}  // namespace tradestore
