// The project's operations files agree with each other: the compose file
// and the systemd drop-in say what the tested pgbouncer.ini says, the
// stack runs the ini with only ports and paths changed, and the binary
// carries the files as they are in the tree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tradestore/internal/read_file.h"
#include "tradestore/ops/ops_files.h"
#include "tradestore/ops/pgbouncer.h"
#include "tradestore/ops/stack_config.h"

namespace tradestore::ops {
namespace {

std::string Read(const std::string& relative) {
  const std::string path = std::string(TRADESTORE_SOURCE_DIR) + "/" + relative;
  EXPECT_TRUE(std::filesystem::is_regular_file(path)) << relative;
  return internal::ReadWholeFile(path);
}

// section.key -> value of an ini file ("pgbouncer.pool_mode").
std::map<std::string, std::string> Ini(absl::string_view text) {
  std::map<std::string, std::string> values;
  std::string section;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == ';' || line[0] == '#') continue;
    if (line[0] == '[') {
      section = std::string(line.substr(1, line.size() - 2));
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == line.npos) continue;
    values[section + "." +
           std::string(absl::StripAsciiWhitespace(line.substr(0, eq)))] =
        std::string(absl::StripAsciiWhitespace(line.substr(eq + 1)));
  }
  return values;
}

int64_t Number(const std::string& text) {
  int64_t n = -1;
  EXPECT_TRUE(absl::SimpleAtoi(text, &n)) << text;
  return n;
}

TEST(OpsConfigTest, TheBinaryCarriesTheFilesOfTheTree) {
  for (const char* name :
       {"tools/postgres/pgbouncer.ini", "tools/postgres/pgbouncer_auth.sql",
        "tools/postgres/pgbackrest.conf"}) {
    EXPECT_EQ(OpsFile(name), Read(name)) << name;
  }
}

TEST(OpsConfigTest, PgBouncerIsWhatThePlanSets) {
  const auto ini = Ini(Read("tools/postgres/pgbouncer.ini"));
  EXPECT_EQ(ini.at("pgbouncer.listen_port"), "6432");
  EXPECT_EQ(ini.at("pgbouncer.pool_mode"), "transaction");
  EXPECT_EQ(ini.at("pgbouncer.max_client_conn"), "1000");
  EXPECT_EQ(ini.at("pgbouncer.default_pool_size"), "25");
  EXPECT_EQ(ini.at("pgbouncer.auth_type"), "scram-sha-256");
  EXPECT_THAT(ini.at("pgbouncer.auth_query"),
              ::testing::HasSubstr("pgbouncer.get_auth($1)"));
  EXPECT_EQ(ini.at("pgbouncer.admin_users"), "");
  EXPECT_EQ(ini.at("pgbouncer.stats_users"), "pgbouncer_stats");
}

TEST(OpsConfigTest, TheComposeFileSaysWhatTheIniSays) {
  const auto ini = Ini(Read("tools/postgres/pgbouncer.ini"));
  const std::string compose =
      Read("tools/postgres/docker-compose-pgbouncer.yml");
  int compared = 0;
  for (absl::string_view line : absl::StrSplit(compose, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!absl::ConsumePrefix(&line, "- PGBOUNCER_")) continue;
    const size_t eq = line.find('=');
    ASSERT_NE(eq, line.npos) << line;
    const std::string key =
        "pgbouncer." + absl::AsciiStrToLower(line.substr(0, eq));
    ASSERT_TRUE(ini.count(key)) << key << " is not in pgbouncer.ini";
    EXPECT_EQ(std::string(line.substr(eq + 1)), ini.at(key)) << key;
    ++compared;
  }
  EXPECT_GE(compared, 10);
  EXPECT_THAT(compose, ::testing::HasSubstr(
                           "./pgbouncer.ini:/etc/pgbouncer/pgbouncer.ini"));
  EXPECT_THAT(compose, ::testing::HasSubstr("DATABASES_DBNAME=trades"));
}

TEST(OpsConfigTest, TheDropInFitsTheClientsTheIniAdmits) {
  const auto ini = Ini(Read("tools/postgres/pgbouncer.ini"));
  const auto unit =
      Ini(Read("tools/postgres/systemd/pgbouncer.service.d-tradestore.conf"));
  EXPECT_GE(Number(unit.at("Service.LimitNOFILE")),
            Number(ini.at("pgbouncer.max_client_conn")) +
                Number(ini.at("pgbouncer.max_db_connections")) + 100);
  const std::string compose =
      Read("tools/postgres/docker-compose-pgbouncer.yml");
  EXPECT_THAT(compose, ::testing::HasSubstr(absl::StrCat(
                           "nofile: ", unit.at("Service.LimitNOFILE"))));
}

TEST(OpsConfigTest, TheStackRewritesOnlyPortsAndPaths) {
  const std::string original = Read("tools/postgres/pgbouncer.ini");
  const auto before = Ini(original);
  const auto after =
      Ini(RenderPgBouncerIni(original, {.listen_port = 23456,
                                        .dir = "/tmp/x",
                                        .auth_file = "/tmp/x/userlist.txt",
                                        .server_port = 34567}));
  const std::set<std::string> changed = {
      "pgbouncer.listen_port", "pgbouncer.unix_socket_dir", "pgbouncer.logfile",
      "pgbouncer.pidfile",     "pgbouncer.auth_file",       "databases.trades",
      "databases.postgres"};
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [key, value] : before) {
    if (changed.count(key)) continue;
    EXPECT_EQ(after.at(key), value) << key;
  }
  EXPECT_EQ(after.at("pgbouncer.listen_port"), "23456");
  EXPECT_EQ(after.at("databases.trades"),
            "host=127.0.0.1 port=34567 dbname=trades");

  const auto conf = Ini(RenderPgBackRestConf(
      Read("tools/postgres/pgbackrest.conf"), {.repo_path = "/r",
                                               .log_path = "/l",
                                               .lock_path = "/k",
                                               .pg_path = "/d",
                                               .pg_port = 5499,
                                               .pg_socket_path = "/s"}));
  EXPECT_EQ(conf.at("global.repo1-path"), "/r");
  EXPECT_EQ(conf.at("global.repo1-retention-full"), "7");
  EXPECT_EQ(conf.at("global.repo1-retention-full-type"), "time");
  EXPECT_EQ(conf.at("trades.pg1-port"), "5499");

  // An HA stack's other nodes land in the stanza's section as pg2, pg3.
  const auto ha = Ini(RenderPgBackRestConf(
      Read("tools/postgres/pgbackrest.conf"),
      {.repo_path = "/r",
       .log_path = "/l",
       .lock_path = "/k",
       .pg_path = "/d1",
       .pg_port = 5401,
       .pg_socket_path = "/s1",
       .more_pgs = {{"/d2", 5402, "/s2"}, {"/d3", 5403, "/s3"}}}));
  EXPECT_EQ(ha.at("trades.pg1-path"), "/d1");
  EXPECT_EQ(ha.at("trades.pg2-path"), "/d2");
  EXPECT_EQ(ha.at("trades.pg2-port"), "5402");
  EXPECT_EQ(ha.at("trades.pg3-socket-path"), "/s3");
  EXPECT_EQ(ha.count("global.pg2-path"), 0u);
}

TEST(OpsConfigTest, PgBouncerHoldsNoApplicationUsersCredential) {
  const std::string userlist =
      PgBouncerUserlist({"pg-secret", "app-secret", "auth-secret", "stats"});
  EXPECT_THAT(userlist, ::testing::HasSubstr("\"pgbouncer_auth\""));
  EXPECT_THAT(userlist, ::testing::Not(::testing::HasSubstr("app-secret")));
  EXPECT_THAT(userlist, ::testing::Not(::testing::HasSubstr("pg-secret")));
}

}  // namespace
}  // namespace tradestore::ops
