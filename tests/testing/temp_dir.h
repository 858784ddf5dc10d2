// A temporary directory removed at the end of the test.
#ifndef TRADESTORE_TESTS_TESTING_TEMP_DIR_H_
#define TRADESTORE_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace tradestore::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/tradestore-test-XXXXXX";
    path_ = mkdtemp(tmpl);
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
