// The archive: written, read back and checked against Postgres; the gate
// into archived; a store in archived never opens SQLite.
#include "tradestore/migration/archive.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "testing/pg_environment.h"
#include "testing/phases.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "testing/trades.h"
#include "tradestore/cli/cli.h"
#include "tradestore/migration/backfill.h"
#include "tradestore/migration/phase.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/sqlite/legacy_generator.h"
#include "tradestore/version.h"

namespace tradestore {
namespace {

using testing::PgEnvironment;
using testing::TestPgOptions;

class ArchiveTest : public ::testing::Test {
 protected:
  static constexpr int kRows = 3000, kBadEvery = 100;

  void SetUp() override {
    db_ = PgEnvironment::Get().FreshDatabaseName();
    dsn_ = PgEnvironment::Get().pg().Dsn(db_);
    path_ = dir_.File("trade_store.db");
    ASSERT_TRUE(GenerateLegacyStore(
                    {.path = path_, .rows = kRows, .bad_every = kBadEvery})
                    .ok());
    std::string log;
    ASSERT_TRUE(testing::Backfill(path_, dsn_, &log).ok()) << log;
    auto phases = PhaseStore::Open(TestPgOptions(dsn_));
    ASSERT_TRUE(phases.ok());
    phases_ = *std::move(phases);
  }

  PhaseMoveResult Move(Phase to, bool force) {
    PhaseMoveOptions move;
    move.sqlite_path = path_;
    move.target = to;
    move.force = force;
    move.reason = force ? "test" : "";
    auto r = phases_->Move(move);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : PhaseMoveResult();
  }

  void MoveToPostgresOnly() {
    for (Phase p :
         {Phase::kDualWrite, Phase::kReadPostgres, Phase::kPostgresOnly}) {
      ASSERT_TRUE(Move(p, true).after.has_value());
    }
  }

  ArchiveReport Archive() {
    ArchiveOptions options;
    options.sqlite_path = path_;
    options.pg = TestPgOptions(dsn_);
    options.to_dir = dir_.File("archive");
    std::ostringstream log;
    auto report = RunArchive(options, log);
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : ArchiveReport();
  }

  testing::TempDir dir_;
  std::string db_, dsn_, path_;
  std::unique_ptr<PhaseStore> phases_;
};

TEST_F(ArchiveTest, WrittenCheckedAndTheGateOpens) {
  MoveToPostgresOnly();
  const ArchiveReport r = Archive();
  EXPECT_TRUE(r.verified()) << ::testing::PrintToString(r.failures);
  EXPECT_EQ(r.rows, kRows);
  EXPECT_EQ(r.exact_rows, kRows - kRows / kBadEvery);
  EXPECT_EQ(r.min_id, 1);
  EXPECT_EQ(r.max_id, kRows);
  EXPECT_EQ(r.content_sha256, r.postgres_content_sha256);
  EXPECT_EQ(r.checks.size(), 3u);
  ASSERT_TRUE(std::filesystem::exists(r.file));
  std::ifstream manifest(r.manifest);
  const nlohmann::json j = nlohmann::json::parse(manifest);
  EXPECT_EQ(j["rows"], kRows);
  EXPECT_EQ(j["quarantined_rows"], kRows / kBadEvery);
  EXPECT_EQ(j["file_sha256"], r.file_sha256);
  EXPECT_TRUE(j["verified"].get<bool>());
  EXPECT_EQ(j["tradestore_version"], kVersion);

  // Statuses moving on in Postgres do not make the archive wrong.
  TS_ASSERT_OK(PgEnvironment::Get().pg().Psql(
      db_,
      "UPDATE trades SET status = 'CANCELLED', version = version + 1 "
      "WHERE id = 2"));
  const PhaseMoveResult moved = Move(Phase::kArchived, false);
  EXPECT_FALSE(moved.refused) << moved.refusal;
  ASSERT_EQ(moved.gates.size(), 1u);
  EXPECT_TRUE(moved.gates[0].passed) << moved.gates[0].detail;

  // In archived the service never opens the SQLite file again.
  std::filesystem::rename(path_, path_ + ".moved-away");
  PhasedStoreOptions options;
  options.sqlite_path = path_;
  options.pg = TestPgOptions(dsn_);
  options.phase_poll = std::chrono::milliseconds(0);
  auto store = PhasedTradeStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ((*store)->phase(), Phase::kArchived);
  TS_EXPECT_OK((*store)->Insert(testing::SampleTrade()));
  EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(ArchiveTest, ListedAndCheckedAgainWithoutWritingAnything) {
  MoveToPostgresOnly();
  const ArchiveReport r = Archive();
  ASSERT_TRUE(r.verified());
  const std::string dir = dir_.File("archive");
  auto cli = [&](std::vector<std::string> args, std::string* text) {
    args.insert(args.begin(), "archive");
    std::ostringstream out, err;
    const int rc = cli::RunCli(args, out, err);
    *text = out.str() + err.str();
    return rc;
  };
  std::string text;
  EXPECT_EQ(cli({"list", "--to", dir}, &text), 0) << text;
  EXPECT_NE(text.find(absl::StrCat(kRows, " rows, ids 1-", kRows,
                                   ", verified when written")),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("1 archive(s) in "), std::string::npos) << text;
  auto listed_before = std::distance(std::filesystem::directory_iterator(dir),
                                     std::filesystem::directory_iterator());

  // Read back against its manifest, and against Postgres when given a DSN.
  EXPECT_EQ(cli({"check", r.file}, &text), 0) << text;
  EXPECT_NE(text.find("every check passed"), std::string::npos) << text;
  EXPECT_EQ(text.find("Postgres holds"), std::string::npos) << text;
  EXPECT_EQ(cli({"check", r.file, "--pg", dsn_}, &text), 0) << text;
  EXPECT_NE(text.find("ok      Postgres holds"), std::string::npos) << text;
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            listed_before);

  // Postgres changed since: the check says so.
  TS_ASSERT_OK(PgEnvironment::Get().pg().Psql(
      db_, "UPDATE trades SET quantity = quantity * 2 WHERE id = 5"));
  EXPECT_EQ(cli({"check", r.file, "--pg", dsn_}, &text), 1) << text;
  EXPECT_NE(text.find("immutable columns DIFFERENT"), std::string::npos)
      << text;

  // A damaged file fails its sha256 and its read-back.
  {
    std::fstream f(r.file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('\x55');
  }
  EXPECT_EQ(cli({"check", r.file}, &text), 1) << text;
  EXPECT_NE(text.find("FAILED  the file's sha256 DIFFERS"), std::string::npos)
      << text;
  // A missing file is a listed problem.
  std::filesystem::remove(r.file);
  EXPECT_EQ(cli({"list", "--to", dir}, &text), 1) << text;
  EXPECT_NE(text.find("PROBLEM: its .db.gz is missing"), std::string::npos)
      << text;
  EXPECT_EQ(cli({"check", r.file}, &text), 2) << text;
  EXPECT_EQ(cli({"chek", r.file}, &text), 2);
  EXPECT_NE(text.find("did you mean check?"), std::string::npos) << text;
}

TEST_F(ArchiveTest, APostgresThatDiffersFailsTheCheckAndTheGate) {
  MoveToPostgresOnly();
  TS_ASSERT_OK(PgEnvironment::Get().pg().Psql(
      db_, "UPDATE trades SET price = price + 0.00000001 WHERE id = 7"));
  std::ostringstream out, err;
  EXPECT_EQ(cli::RunCli({"archive", "--sqlite", path_, "--pg", dsn_, "--to",
                         dir_.File("archive")},
                        out, err),
            1)
      << err.str();
  EXPECT_NE(out.str().find("FAILED  Postgres holds"), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("immutable columns DIFFERENT"), std::string::npos);
  // Kept for a look, under a name that says what it is.
  int unverified = 0;
  for (const auto& e :
       std::filesystem::directory_iterator(dir_.File("archive"))) {
    const std::string name = e.path().filename().string();
    EXPECT_NE(name.find(".unverified."), std::string::npos) << name;
    ++unverified;
  }
  EXPECT_EQ(unverified, 2);
  const PhaseMoveResult moved = Move(Phase::kArchived, false);
  EXPECT_TRUE(moved.refused);
  EXPECT_NE(moved.refusal.find("failed its checks"), std::string::npos)
      << moved.refusal;
}

TEST_F(ArchiveTest, AnArchiveFromBeforePostgresOnlyDoesNotCount) {
  ASSERT_TRUE(Archive().verified());
  MoveToPostgresOnly();
  const PhaseMoveResult moved = Move(Phase::kArchived, false);
  EXPECT_TRUE(moved.refused);
  EXPECT_NE(moved.refusal.find("older than the move to postgres_only"),
            std::string::npos)
      << moved.refusal;
}

// Archives are as private as the store; a killed run's half-made files
// are removed by the next run, and nothing half-made ever takes a final
// name.
TEST_F(ArchiveTest, PrivateAndLeavesNoDebris) {
  MoveToPostgresOnly();
  ASSERT_EQ(chmod(path_.c_str(), 0600), 0);
  const std::string to = dir_.File("archive");
  std::filesystem::create_directories(to);
  // What a run killed mid-way leaves: its working directory.
  const pid_t gone = fork();
  if (gone == 0) _exit(0);
  ASSERT_GT(gone, 0);
  waitpid(gone, nullptr, 0);
  const std::string stale =
      to + "/.tradestore-archive-" + std::to_string(gone) + "-0badc0de";
  std::filesystem::create_directories(stale);
  std::ofstream(stale + "/archive.db.gz") << "truncated";
  const ArchiveReport r = Archive();
  ASSERT_TRUE(r.verified()) << ::testing::PrintToString(r.failures);
  EXPECT_FALSE(std::filesystem::exists(stale));
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(to)) {
    names.push_back(e.path().filename().string());
    struct stat st;
    ASSERT_EQ(stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
  }
  ASSERT_EQ(names.size(), 2u) << ::testing::PrintToString(names);
  for (const std::string& name : names) {
    EXPECT_TRUE(name.ends_with(".db.gz") || name.ends_with(".manifest.json"))
        << name;
  }
}

}  // namespace
}  // namespace tradestore
