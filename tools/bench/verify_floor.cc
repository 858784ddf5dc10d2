#include "verify_floor.h"

#include <sqlite3.h>
#include <time.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench_util.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/postgres/row_text.h"

namespace tradestore::bench {
namespace {

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// One thread stepping every row, taking each column's value and, for text
// and blobs, its bytes: what reading the store costs before any check.
absl::StatusOr<double> SqliteReadCpu(const std::string& path, int64_t* max_id) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite3_stmt* stmt = nullptr;
  if (rc == SQLITE_OK) {
    rc = sqlite3_prepare_v2(db, "SELECT * FROM trades ORDER BY id", -1, &stmt,
                            nullptr);
  }
  if (rc != SQLITE_OK) {
    const std::string why = sqlite3_errmsg(db);
    sqlite3_close(db);
    return absl::InternalError(absl::StrCat(path, ": ", why));
  }
  const double start = ThreadCpuSeconds();
  const int columns = sqlite3_column_count(stmt);
  size_t bytes = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    *max_id = sqlite3_column_int64(stmt, 0);
    for (int i = 0; i < columns; ++i) {
      sqlite3_value* v = sqlite3_column_value(stmt, i);
      const int type = sqlite3_value_type(v);
      if (type == SQLITE_TEXT) {
        bytes += static_cast<size_t>(sqlite3_value_bytes(v)) +
                 (sqlite3_value_text(v) != nullptr);
      } else if (type == SQLITE_BLOB) {
        bytes += static_cast<size_t>(sqlite3_value_bytes(v)) +
                 (sqlite3_value_blob(v) != nullptr);
      }
    }
  }
  const double cpu = ThreadCpuSeconds() - start;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_DONE || bytes == 0) {
    return absl::InternalError(absl::StrCat(path, ": the scan did not finish"));
  }
  return cpu;
}

// The two lanes' COPYs side by side, each backend reporting its own
// rusage (log_statement_stats, sent to the client at LOG level).
absl::StatusOr<double> PostgresSendCpu(const std::string& dsn,
                                       const std::string& dir, int64_t max_id) {
  const int64_t mid = max_id / 2;
  const std::vector<std::pair<int64_t, int64_t>> lanes = {{INT64_MIN, mid},
                                                          {mid, INT64_MAX}};
  std::string script = "set -e; ";
  for (size_t k = 0; k < lanes.size(); ++k) {
    const std::string sql = absl::StrCat(dir, "/floor", k, ".sql");
    std::ofstream(sql) << "SET client_min_messages = log;\n"
                       << "SET log_statement_stats = on;\n"
                       << "COPY (SELECT " << pg::kPgVerifyColumns
                       << " FROM trades WHERE id > " << lanes[k].first
                       << " AND id <= " << lanes[k].second
                       << " ORDER BY id) TO STDOUT (FORMAT binary);\n";
    absl::StrAppend(&script, "psql -X -q -v ON_ERROR_STOP=1 -d '", dsn,
                    "' -f '", sql, "' > /dev/null 2> '", dir, "/floor", k,
                    ".err' & p", k, "=$!; ");
  }
  absl::StrAppend(&script, "wait $p0; wait $p1");
  const std::string log = dir + "/floor.log";
  if (RunMeasured({"bash", "-c", script}, log).exit_code != 0) {
    return absl::InternalError("the COPYs failed; see " + log);
  }
  // "!\t0.582 s user, 0.198 s system, 0.780 s elapsed": the COPY's is last.
  static const std::regex kUsage(R"(([0-9.]+) s user, ([0-9.]+) s system)");
  double cpu = 0;
  for (size_t k = 0; k < lanes.size(); ++k) {
    const std::string text =
        internal::ReadWholeFile(absl::StrCat(dir, "/floor", k, ".err"));
    double lane = -1;
    for (std::sregex_iterator it(text.begin(), text.end(), kUsage), end;
         it != end; ++it) {
      lane = std::stod((*it)[1]) + std::stod((*it)[2]);
    }
    if (lane < 0) return absl::InternalError("no usage stats from Postgres");
    cpu += lane;
  }
  return cpu;
}

}  // namespace

absl::StatusOr<VerifyFloor> MeasureVerifyFloor(const std::string& sqlite_path,
                                               const std::string& dsn,
                                               const std::string& dir,
                                               int rounds) {
  std::vector<double> sqlite_cpu, pg_cpu;
  for (int round = 0; round < rounds; ++round) {
    int64_t max_id = 0;
    auto s = SqliteReadCpu(sqlite_path, &max_id);
    if (!s.ok()) return s.status();
    auto p = PostgresSendCpu(dsn, dir, max_id);
    if (!p.ok()) return p.status();
    sqlite_cpu.push_back(*s);
    pg_cpu.push_back(*p);
  }
  VerifyFloor floor;
  floor.sqlite_cpu_s = Median(sqlite_cpu);
  floor.postgres_cpu_s = Median(pg_cpu);
  floor.cores = std::max(1u, std::thread::hardware_concurrency());
  return floor;
}

absl::StatusOr<double> MeasureIncrementalFloor(const std::string& dsn,
                                               int rounds,
                                               const std::string& log_path) {
  const std::string program = BuiltProgram("connect_once");
  std::vector<double> seconds;
  for (int round = 0; round < rounds; ++round) {
    const Measured m = RunMeasured({program, dsn}, log_path);
    if (m.exit_code != 0) {
      return absl::InternalError(
          absl::StrCat(program, " exited ", m.exit_code, "; see ", log_path));
    }
    seconds.push_back(m.seconds);
  }
  return Median(std::move(seconds));
}

}  // namespace tradestore::bench
