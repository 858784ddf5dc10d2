#include "tradestore/cli/demo_failover.h"

#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tradestore/internal/poll.h"
#include "tradestore/internal/status_macros.h"
#include "tradestore/migration/loadgen.h"
#include "tradestore/ops/ha_stack.h"
#include "tradestore/ops/stack.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/verify/verifier.h"

namespace tradestore::cli {
namespace {

using Steady = std::chrono::steady_clock;

std::string Leader(const ops::StackStatus& s) {
  for (const auto& n : s.nodes) {
    if (n.role == "leader") return n.name;
  }
  return "";
}

// Waits for a leader other than `old` with a synchronous standby.
absl::StatusOr<std::string> NewLeader(const std::string& dir,
                                      const std::string& old) {
  std::string leader;
  TS_RETURN_IF_ERROR(internal::PollUntilOk(
      std::chrono::milliseconds(200), std::chrono::minutes(2), [&] {
        auto s = ops::GetStackStatus(dir);
        if (s.ok() && s->running()) leader = Leader(*s);
        if (!leader.empty() && leader != old) return absl::OkStatus();
        return absl::DeadlineExceededError(
            absl::StrCat("no new leader 2 minutes after ", old, " was killed"));
      }));
  return leader;
}

// The accounting: acknowledged writes (the newest version of each trade in
// the ack log) that Postgres does not hold.
absl::StatusOr<int64_t> CountLost(const PgOptions& pg,
                                  const std::string& ack_log) {
  const std::map<int64_t, int64_t> acked = ReadAckLog(ack_log).newest;
  TS_ASSIGN_OR_RETURN(auto store, PgTradeStore::Open(pg));
  std::map<int64_t, int64_t> stored;
  for (int64_t after = 0;;) {
    TS_ASSIGN_OR_RETURN(auto chunk, store->ScanById(after, 5000));
    if (chunk.empty()) break;
    for (const Trade& t : chunk) stored[t.id] = t.version;
    after = chunk.back().id;
  }
  int64_t lost = 0;
  for (const auto& [id, version] : acked) {
    auto it = stored.find(id);
    if (it == stored.end() || it->second < version) ++lost;
  }
  return lost;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DemoHaStack>> DemoHaStack::Start(
    const std::string& dir, std::ostream& out) {
  const auto start = Steady::now();
  std::ostringstream quiet;
  TS_ASSIGN_OR_RETURN(ops::StackStatus up,
                      ops::StackUp({.dir = dir, .ha = true}, quiet));
  auto stack =
      std::unique_ptr<DemoHaStack>(new DemoHaStack(dir, up.pgbouncer_dsn));
  out << absl::StrFormat(
      "      started an HA stack in %.1f s: %d Postgres nodes under Patroni "
      "(synchronous replication), etcd, HAProxy, PgBouncer; leader %s "
      "(removed at the end)\n",
      std::chrono::duration<double>(Steady::now() - start).count(),
      up.nodes.size(), Leader(up));
  return stack;
}

DemoHaStack::~DemoHaStack() {
  std::ostringstream quiet;
  ops::StackDown(dir_, /*remove=*/true, quiet).IgnoreError();
}

absl::Status KillLeaderUnderLoad(const DemoHaStack& stack,
                                 const std::string& path, std::ostream& out) {
  TS_ASSIGN_OR_RETURN(ops::StackStatus before,
                      ops::GetStackStatus(stack.dir()));
  const std::string old_leader = Leader(before);
  const std::string acks = stack.dir() + "/demo-acks.txt";
  LoadgenOptions load;
  load.store.sqlite_path = path;
  load.store.pg.dsn = stack.dsn();
  // Longer than a failover: the relay waits it out.
  load.store.pg.backoff.deadline = std::chrono::seconds(60);
  load.store.phase_poll = std::chrono::milliseconds(500);
  load.rate = 400;
  load.duration = std::chrono::seconds(8);
  load.ack_log = acks;
  absl::StatusOr<LoadgenReport> report = absl::UnknownError("not run");
  std::thread trading([&] {
    std::ostringstream quiet;
    report = RunLoadgen(load, quiet);
  });
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const auto killed_at = Steady::now();
  absl::Status fault = ops::InjectNodeFault(stack.dir(), old_leader,
                                            ops::NodeFault::kPostmasterCrash);
  absl::StatusOr<std::string> new_leader =
      fault.ok() ? NewLeader(stack.dir(), old_leader)
                 : absl::StatusOr<std::string>(fault);
  const double failover_s =
      std::chrono::duration<double>(Steady::now() - killed_at).count();
  trading.join();
  TS_RETURN_IF_ERROR(new_leader.status());
  TS_RETURN_IF_ERROR(report.status());

  PgOptions pg;
  pg.dsn = stack.dsn();
  TS_ASSIGN_OR_RETURN(const int64_t lost, CountLost(pg, acks));
  VerifyOptions verify;
  verify.sqlite_path = path;
  verify.pg = pg;
  verify.min_age = std::chrono::microseconds(0);
  std::ostringstream quiet;
  TS_ASSIGN_OR_RETURN(VerifyReport checked, RunVerify(verify, quiet));
  out << absl::StrFormat(
      "      leader %s's postmaster killed mid-load: %s leads %.1f s later; "
      "%d writes acknowledged, %d failed, %d lost; outbox %s; verify %s\n",
      old_leader, *new_leader, failover_s, report->acknowledged, report->failed,
      lost, report->drained ? "drained" : "NOT drained",
      checked.clean() ? "clean" : "DIFFERENCES");
  if (lost > 0 || !checked.clean() || !report->drained) {
    return absl::DataLossError(
        absl::StrCat("the failover lost ", lost,
                     " acknowledged writes or left the stores different"));
  }
  return absl::OkStatus();
}

}  // namespace tradestore::cli
