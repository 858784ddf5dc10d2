#include "tradestore/cli/config_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "testing/temp_dir.h"

namespace tradestore::cli {
namespace {

class ConfigFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, mode_t mode = 0600) {
    const std::string path = dir_.File("tradestore.conf");
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
    return path;
  }
  absl::Status Apply(const std::string& text, const std::string& command,
                     ParsedArgs& args) {
    auto config = ReadConfigFile(Write(text));
    if (!config.ok()) return config.status();
    return ApplyConfig(*config, command, flags_, known_, args);
  }
  testing::TempDir dir_;
  std::vector<FlagSpec> flags_ = {
      TextFlag("sqlite", "PATH", ""), TextFlag("pg", "DSN", ""),
      DurationFlag("deadline", "", std::chrono::seconds(1),
                   std::chrono::hours(1)),
      BoolFlag("incremental", ""), TextFlag("prom", "FILE", "")};
  std::vector<std::string> known_ = {"sqlite",      "pg",   "deadline",
                                     "incremental", "prom", "to"};
};

TEST_F(ConfigFileTest, FillsWhatTheCommandLineLeavesOut) {
  ParsedArgs args;
  args.values["sqlite"] = "/from/the/command/line.db";
  unsetenv("TRADESTORE_PG_DSN");
  ASSERT_TRUE(Apply("# defaults\n"
                    "sqlite = /srv/trade_store.db\n"
                    "pg = host=db dbname=trades\n"
                    "deadline = 2m\n"
                    "to = s3://backups\n"  // backup's flag: not verify's
                    "[verify]\n"
                    "incremental = true\n"
                    "prom = /var/lib/v.prom\n"
                    "[backup]\n"
                    "prom = /var/lib/b.prom\n",
                    "verify", args)
                  .ok());
  EXPECT_EQ(args.Get("sqlite"), "/from/the/command/line.db");
  EXPECT_EQ(args.Get("pg"), "host=db dbname=trades");
  EXPECT_EQ(args.Duration("deadline"), std::chrono::minutes(2));
  EXPECT_TRUE(args.Has("incremental"));
  EXPECT_EQ(args.Get("prom"), "/var/lib/v.prom");
  EXPECT_FALSE(args.Has("to"));
}

TEST_F(ConfigFileTest, TheEnvironmentBeatsTheFile) {
  setenv("TRADESTORE_PG_DSN", "host=from-env", 1);
  ParsedArgs args;
  ASSERT_TRUE(Apply("pg = host=from-file\n", "verify", args).ok());
  unsetenv("TRADESTORE_PG_DSN");
  EXPECT_FALSE(args.Has("pg"));
}

TEST_F(ConfigFileTest, MistakesNameTheLine) {
  ParsedArgs args;
  auto s = Apply("sqlite = a.db\n\nsqlte = b.db\n", "verify", args);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("tradestore.conf:3: unknown key"),
            std::string::npos)
      << s;
  EXPECT_NE(s.message().find("did you mean sqlite"), std::string::npos) << s;
  s = Apply("deadline = soon\n", "verify", args);
  EXPECT_NE(s.message().find(":1: --deadline"), std::string::npos) << s;
  s = Apply("[verify]\nto = s3://x\n", "verify", args);
  EXPECT_NE(s.message().find(":2: verify takes no --to"), std::string::npos)
      << s;
  s = Apply("just words\n", "verify", args);
  EXPECT_NE(s.message().find(":1: expected key = value"), std::string::npos);
  s = Apply("incremental = yes\n", "verify", args);
  EXPECT_NE(s.message().find("true or false"), std::string::npos) << s;
  // A misspelt section would be skipped by every command: refused.
  auto config = ReadConfigFile(Write("[verfy]\nincremental = true\n"));
  ASSERT_TRUE(config.ok());
  s = ApplyConfig(*config, "backfill", flags_, known_, args,
                  {"backfill", "verify"});
  EXPECT_NE(s.message().find(":2: unknown section [verfy] (did you mean "
                             "[verify]?)"),
            std::string::npos)
      << s;
}

TEST_F(ConfigFileTest, RefusesPasswordsAndFilesOthersMayChange) {
  ParsedArgs args;
  unsetenv("TRADESTORE_PG_DSN");
  auto s = Apply("pg = postgresql://app:Hunter2@db/trades\n", "verify", args);
  EXPECT_NE(s.message().find("~/.pgpass"), std::string::npos) << s;
  EXPECT_EQ(s.message().find("Hunter2"), std::string::npos) << s;
  EXPECT_FALSE(args.Has("pg"));
  auto config = ReadConfigFile(Write("sqlite = a.db\n", 0620));
  EXPECT_EQ(config.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ReadConfigFile(dir_.File("missing.conf")).ok());
}

}  // namespace
}  // namespace tradestore::cli
