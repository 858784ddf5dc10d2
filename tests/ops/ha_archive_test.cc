// WAL archiving on the HA stack (issues 21 and 22): one pgBackRest
// repository for the whole cluster. A backup taken before a switchover,
// with the archive the new leader goes on writing, restores to the end of
// that archive across the timeline change: a trade committed before the
// switchover and one after it both come back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "testing/ha_environment.h"
#include "testing/restored_copy.h"
#include "testing/status_matchers.h"
#include "testing/trades.h"
#include "tradestore/internal/process.h"
#include "tradestore/ops/ha_stack.h"
#include "tradestore/ops/pg_cluster.h"
#include "tradestore/ops/pgbackrest.h"
#include "tradestore/postgres/pg_trade_store.h"

namespace tradestore {
namespace {

using testing::HaEnvironment;

std::string Leader(const ops::StackStatus& s) {
  for (const auto& n : s.nodes) {
    if (n.role == "leader") return n.name;
  }
  return "";
}

// Switches the leader's WAL segment and waits until the archiver has it.
void ArchiveNow(const std::string& dsn) {
  auto& env = HaEnvironment::Get();
  std::string segment = env.Sql(dsn, "SELECT pg_walfile_name(pg_switch_wal())");
  segment.pop_back();
  const std::string archived =
      absl::StrCat("SELECT coalesce(last_archived_wal >= '", segment,
                   "', false) FROM pg_stat_archiver");
  for (int i = 0; i < 1200 && env.Sql(dsn, archived) != "t\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(env.Sql(dsn, archived), "t\n") << segment << " never archived";
}

TEST(HaArchiveTest, ABackupRestoresAcrossASwitchover) {
  auto& env = HaEnvironment::Get();
  const ops::StackStatus before = env.WaitHealthy();
  ASSERT_TRUE(before.archive);
  const std::string user = *ops::ServiceUser();
  ops::PgBackRest backrest(before.pgbackrest_config, before.stanza, user);
  TS_ASSERT_OK(backrest.Backup("full"));

  PgOptions options;
  options.dsn = before.pgbouncer_dsn;
  auto store = PgTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  const std::string run = absl::StrCat(getpid());
  TS_ASSERT_OK((*store)->Insert(testing::KeyedTrade("archive-before-" + run)));

  TS_ASSERT_OK(ops::Switchover(env.dir(), ""));
  const ops::StackStatus after = env.WaitHealthy();
  ASSERT_NE(Leader(after), Leader(before));
  TS_ASSERT_OK((*store)->Insert(testing::KeyedTrade("archive-after-" + run)));
  ArchiveNow(after.admin_dsn);
  TS_ASSERT_OK(
      internal::RunChecked({"pgbackrest", "--config=" + after.pgbackrest_config,
                            "--stanza=" + after.stanza, "check"},
                           user));

  const std::string copy_dir = env.NewDir() + "/copy";
  TS_ASSERT_OK(ops::MakeServiceDir(copy_dir, user));
  TS_ASSERT_OK(backrest.Restore(copy_dir + "/data", std::nullopt));
  auto copy = testing::StartRestoredCopy(copy_dir);
  ASSERT_NE(copy, nullptr);
  auto keys = copy->Psql(
      "trades", absl::StrCat("SELECT string_agg(client_order_id, ',' ORDER "
                             "BY id) FROM trades WHERE client_order_id LIKE "
                             "'archive-%-",
                             run, "'"));
  TS_ASSERT_OK(keys);
  EXPECT_EQ(*keys,
            absl::StrCat("archive-before-", run, ",archive-after-", run, "\n"));
  TS_EXPECT_OK(copy->Stop(/*immediate=*/true));
}

}  // namespace
}  // namespace tradestore
