#include "tradestore/internal/failpoint.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tradestore/internal/mutex.h"

namespace tradestore::internal {
namespace {

constexpr absl::string_view kNames[] = {
    // The trade writer, in a phase that enqueues for the relay.
    "sqlite.write.before_commit",
    "sqlite.write.after_commit",
    // The relay (and quarantine retry): a batch written to Postgres, then
    // its outbox entries acked in SQLite.
    "mirror.before_pg_commit",
    "relay.after_pg_commit",
    // The backfill: a batch and its checkpoint commit together.
    "backfill.batch.before_commit",
    "backfill.batch.after_commit",
    // Behind the fence: every batch in, indexes then the key rebuilt.
    "backfill.before_index_rebuild",
    "backfill.before_key_restore",
    // Verify compared everything, its run not yet recorded.
    "verify.before_record",
    // A phase move committed in Postgres, not yet mirrored into SQLite.
    "phase.after_commit",
    // Rolling back from postgres_only: a batch copied into SQLite.
    "reverse_catch_up.after_batch",
};

struct Armed {
  int64_t left = 1;
  std::function<void()> action;
};

struct Registry {
  Mutex mu;
  std::map<std::string, Armed, std::less<>> table ABSL_GUARDED_BY(mu);
};

Registry& Registered() {
  static auto* registry = new Registry();
  return *registry;
}

bool ArmFromEnvironment() {
  const char* spec = std::getenv(kFailpointsEnv);
  if (spec == nullptr || *spec == '\0') return false;
  absl::Status armed = ArmFailpointsFromText(spec);
  if (!armed.ok()) {
    std::fprintf(stderr, "%s: %s\n", kFailpointsEnv,
                 std::string(armed.message()).c_str());
    std::_Exit(2);
  }
  return true;
}

[[maybe_unused]] const bool kArmedFromEnvironment = ArmFromEnvironment();

}  // namespace

namespace failpoint_detail {

std::atomic<bool> armed{false};

void Reach(absl::string_view name) {
  std::function<void()> action;
  {
    Registry& r = Registered();
    ScopedLock lock(r.mu);
    auto it = r.table.find(name);
    if (it == r.table.end() || --it->second.left > 0) return;
    action = std::move(it->second.action);
    r.table.erase(it);
    armed.store(!r.table.empty(), std::memory_order_relaxed);
  }
  if (action) {
    action();
  } else {
    kill(getpid(), SIGKILL);
    std::_Exit(137);  // not reached
  }
}

}  // namespace failpoint_detail

absl::Span<const absl::string_view> FailpointNames() { return kNames; }

absl::Status ArmFailpoint(absl::string_view name, int64_t nth,
                          std::function<void()> action) {
  if (std::find(std::begin(kNames), std::end(kNames), name) ==
      std::end(kNames)) {
    return absl::InvalidArgumentError(
        absl::StrCat("no failpoint is named \"", name, "\""));
  }
  if (nth < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "failpoint ", name, ": the count must be 1 or more, not ", nth));
  }
  Registry& r = Registered();
  ScopedLock lock(r.mu);
  r.table[std::string(name)] = Armed{nth, std::move(action)};
  failpoint_detail::armed.store(true, std::memory_order_relaxed);
  return absl::OkStatus();
}

absl::Status ArmFailpointsFromText(absl::string_view spec) {
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(item, absl::MaxSplits('@', 1));
    int64_t nth = 1;
    if (!parts.second.empty() && !absl::SimpleAtoi(parts.second, &nth)) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", item, "\": expected NAME or NAME@N"));
    }
    if (absl::Status s = ArmFailpoint(parts.first, nth); !s.ok()) return s;
  }
  return absl::OkStatus();
}

void DisarmFailpoints() {
  Registry& r = Registered();
  ScopedLock lock(r.mu);
  r.table.clear();
  failpoint_detail::armed.store(false, std::memory_order_relaxed);
}

}  // namespace tradestore::internal
