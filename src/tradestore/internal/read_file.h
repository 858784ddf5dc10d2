// Reading a whole small file (a config, a log, a report, a /proc entry).
#ifndef TRADESTORE_INTERNAL_READ_FILE_H_
#define TRADESTORE_INTERNAL_READ_FILE_H_

#include <fstream>
#include <iterator>
#include <string>

namespace tradestore::internal {

// The bytes of the file at `path`; "" when it cannot be opened (a caller
// that must tell a missing file from an empty one checks first).
inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace tradestore::internal

#endif  // TRADESTORE_INTERNAL_READ_FILE_H_
