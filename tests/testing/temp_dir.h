// A temporary directory removed at the end of the test.
#ifndef TRADESTORE_TESTS_TESTING_TEMP_DIR_H_
#define TRADESTORE_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

namespace tradestore::testing {

class TempDir {
 public:
  // `mode`: 0711 lets a service running as another user (Postgres as
  // postgres, when the tests run as root) reach a directory made inside.
  explicit TempDir(mode_t mode = 0700) {
    char tmpl[] = "/tmp/tradestore-test-XXXXXX";
    path_ = mkdtemp(tmpl);
    chmod(path_.c_str(), mode);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_TEMP_DIR_H_
