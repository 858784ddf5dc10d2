// WAL archiving on the HA stack (issues 21 and 22): one pgBackRest
// repository for the whole cluster. A backup taken before a switchover,
// with the archive the new leader goes on writing, restores to the end of
// that archive across the timeline change: a trade committed before the
// switchover and one after it both come back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>

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
  ASSERT_TRUE(testing::ArchiveNow(
      [&](const std::string& sql) { return env.Sql(after.admin_dsn, sql); },
      std::chrono::minutes(2)));
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
