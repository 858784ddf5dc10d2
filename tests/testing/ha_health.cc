#include "testing/ha_health.h"

#include "absl/strings/str_cat.h"
#include "tradestore/internal/process.h"

namespace tradestore::testing {

bool HaHealthy(const ops::StackStatus& s) {
  if (!s.running() || s.nodes.empty()) return false;
  auto r = internal::RunCommand(
      {"psql", "-X", "-A", "-t", "-d", s.admin_dsn, "-c",
       "SELECT pg_is_in_recovery(), (SELECT count(*) FROM pg_stat_replication "
       "WHERE state = 'streaming'), (SELECT count(*) FROM "
       "pg_stat_replication WHERE state = 'streaming' AND sync_state = "
       "'sync')"});
  return r.ok() && r->exit_code == 0 &&
         r->out == absl::StrCat("f|", s.nodes.size() - 1, "|1\n");
}

}  // namespace tradestore::testing
