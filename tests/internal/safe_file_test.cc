#include "tradestore/internal/safe_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testing/status_matchers.h"
#include "testing/temp_dir.h"
#include "tradestore/internal/read_file.h"

namespace tradestore::internal {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// Only the target: no temp file is left beside it.
size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(SafeFileTest, WritesReplacesAndLeavesNothingElse) {
  TempDir dir;
  const std::string path = dir.File("report.json");
  TS_ASSERT_OK(WriteFileSafely(path, "one"));
  TS_ASSERT_OK(WriteFileSafely(path, "two"));
  EXPECT_EQ(ReadWholeFile(path), "two");
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

TEST(SafeFileTest, TakesTheModeAskedFor) {
  TempDir dir;
  const std::string path = dir.File("archive.gz");
  TS_ASSERT_OK(WriteFileSafely(path, "x", {.mode = 0600}));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SafeFileTest, NeverFollowsOrReplacesASymlink) {
  TempDir dir;
  const std::string victim = dir.File("victim.db");
  std::ofstream(victim) << "precious";
  const std::string link = dir.File("report.prom");
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  auto status = WriteFileSafely(link, "metrics");
  TS_EXPECT_CODE(status, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadWholeFile(victim), "precious");
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(FilesIn(dir.path()), 2u);
}

TEST(SafeFileTest, RefusesWhatIsNotARegularFile) {
  TempDir dir;
  TS_EXPECT_CODE(WriteFileSafely(dir.path(), "x"),
                 absl::StatusCode::kFailedPrecondition);
  TS_EXPECT_CODE(WriteFileSafely("/dev/null", "x"),
                 absl::StatusCode::kFailedPrecondition);
}

TEST(SafeFileTest, NeverReplacesAProtectedFileByAnyName) {
  TempDir dir;
  const std::string store = dir.File("trade_store.db");
  std::ofstream(store) << "trades";
  const std::string hard = dir.File("other-name.db");
  ASSERT_EQ(link(store.c_str(), hard.c_str()), 0);
  for (const std::string& target :
       {store, hard, dir.path() + "/./trade_store.db"}) {
    TS_EXPECT_CODE(WriteFileSafely(target, "{}", {.never_replace = {store}}),
                   absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(ReadWholeFile(store), "trades");
}

TEST(SafeFileTest, AnUncommittedFileLeavesNoTrace) {
  TempDir dir;
  const std::string path = dir.File("backup.dump");
  {
    auto file = SafeFile::Create(path);
    TS_ASSERT_OK(file);
    TS_ASSERT_OK((*file)->Write("half"));
    EXPECT_TRUE(fs::exists((*file)->temp_path()));
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(FilesIn(dir.path()), 0u);
  TS_EXPECT_CODE(SafeFile::Create(dir.File("no/such/dir/x")).status(),
                 absl::StatusCode::kNotFound);
}

TEST(SafeFileTest, ASymlinkPlantedBeforeCommitIsRefused) {
  TempDir dir;
  const std::string victim = dir.File("victim");
  std::ofstream(victim) << "precious";
  const std::string path = dir.File("metrics.prom");
  auto file = SafeFile::Create(path);
  TS_ASSERT_OK(file);
  TS_ASSERT_OK((*file)->Write("x 1\n"));
  ASSERT_EQ(symlink(victim.c_str(), path.c_str()), 0);
  TS_EXPECT_CODE((*file)->Commit(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadWholeFile(victim), "precious");
}

}  // namespace
}  // namespace tradestore::internal
