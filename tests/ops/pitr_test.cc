// Point-in-time recovery with pgBackRest, as the platform plan's backup
// table has it (WAL archiving, pg_basebackup-style full backups, 7 days):
// a trade committed before the target time is recovered and one after it
// is not; and after the primary's data directory is lost, the latest
// archived state comes back whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "testing/ops_environment.h"
#include "testing/restored_copy.h"
#include "testing/stack_guard.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbackrest.h"
#include "tradestore/ops/stack.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore::ops {
namespace {

using testing::OpsEnvironment;

PgOptions Options(const std::string& dsn) {
  PgOptions o;
  o.dsn = dsn;
  return o;
}

// Inserts a trade keyed `key` through the stack's primary.
void Insert(const std::string& dsn, const std::string& key) {
  auto store = PgTradeStore::Open(Options(dsn));
  ASSERT_TRUE(store.ok()) << store.status();
  Trade t = tradestore::testing::SampleTrade();
  t.client_order_id = key;
  TS_ASSERT_OK((*store)->Insert(t));
}

TEST(PitrTest, RecoversToThePointBetweenTwoTrades) {
  auto& env = OpsEnvironment::Get();
  const auto& stack = env.stack();
  const std::string dsn = env.FreshDatabase();
  const std::string db =
      dsn.substr(dsn.find("dbname=") + 7,
                 dsn.find(' ', dsn.find("dbname=")) - dsn.find("dbname=") - 7);
  PgBackRest backrest(stack.pgbackrest_config, stack.stanza, *ServiceUser());
  TS_ASSERT_OK(backrest.Backup("full"));
  auto backups = backrest.Backups();
  TS_ASSERT_OK(backups);
  ASSERT_FALSE(backups->empty());
  Insert(dsn, "A");
  // The target: after A's commit, before B's (the server's own clock).
  std::string target = env.Sql(db, "SELECT clock_timestamp()::text");
  target.pop_back();
  Insert(dsn, "B");
  ASSERT_TRUE(tradestore::testing::ArchiveNow(
      [&](const std::string& sql) { return env.Sql(db, sql); },
      std::chrono::seconds(60)));

  const std::string copy_dir = env.NewDir() + "/copy";
  TS_ASSERT_OK(MakeServiceDir(copy_dir, *ServiceUser()));
  TS_ASSERT_OK(
      backrest.Restore(copy_dir + "/data", target, backups->back().label));
  std::unique_ptr<PgCluster> copy =
      tradestore::testing::StartRestoredCopy(copy_dir);
  ASSERT_NE(copy, nullptr);
  auto keys = copy->Psql(
      db, "SELECT string_agg(client_order_id, ',' ORDER BY id) FROM trades");
  TS_ASSERT_OK(keys);
  EXPECT_EQ(*keys, "A\n");
  TS_EXPECT_OK(copy->Stop(/*immediate=*/false));
}

TEST(PitrTest, TheLatestStateComesBackAfterTheDataDirectoryIsLost) {
  // A stack of its own: this one's primary is destroyed.
  testing::TempDir dir(0711);
  const std::string where = dir.File("s");
  testing::GuardStack(where);
  std::ostringstream log;
  auto stack = StackUp({.dir = where, .archive = true}, log);
  ASSERT_TRUE(stack.ok()) << stack.status() << log.str();
  PgBackRest backrest(stack->pgbackrest_config, stack->stanza, *ServiceUser());
  TS_ASSERT_OK(backrest.Backup("full"));
  for (int i = 0; i < 25; ++i) Insert(stack->primary_dsn, absl::StrCat("k", i));
  auto primary = PgCluster::Open(where + "/pg");
  ASSERT_TRUE(primary.ok());
  ASSERT_TRUE(tradestore::testing::ArchiveNow(
      [&](const std::string& sql) {
        return (*primary)->Psql("trades", sql).value_or("");
      },
      std::chrono::seconds(60)));
  // The disk is gone: a crash, and nothing left of the data directory.
  TS_ASSERT_OK((*primary)->Stop(/*immediate=*/true));
  std::filesystem::remove_all(where + "/pg/data");
  TS_ASSERT_OK(backrest.Restore(where + "/pg/data", std::nullopt));
  TS_ASSERT_OK((*primary)->Start((*primary)->port()));
  ASSERT_TRUE(tradestore::testing::WaitForPromotion(**primary));
  auto count = (*primary)->Psql("trades", "SELECT count(*) FROM trades");
  TS_ASSERT_OK(count);
  EXPECT_EQ(*count, "25\n");
  EXPECT_TRUE(StackDown(where, /*remove=*/true, log).ok());
}

}  // namespace
}  // namespace tradestore::ops
