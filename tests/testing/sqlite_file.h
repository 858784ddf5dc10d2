// A raw SQLite connection for tests that shape legacy files by hand, the
// way older execution-service code left them: closed with the object, and
// every statement must succeed or the test fails.
#ifndef TRADESTORE_TESTS_TESTING_SQLITE_FILE_H_
#define TRADESTORE_TESTS_TESTING_SQLITE_FILE_H_

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

namespace tradestore::testing {

class SqliteFile {
 public:
  explicit SqliteFile(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK) << path;
  }
  ~SqliteFile() { sqlite3_close(db_); }
  SqliteFile(const SqliteFile&) = delete;
  SqliteFile& operator=(const SqliteFile&) = delete;

  // Runs `sql`, one or more statements.
  void Exec(const std::string& sql) {
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error),
              SQLITE_OK)
        << (error != nullptr ? error : "") << "\n  in: " << sql;
    sqlite3_free(error);
  }

  // The first column of the first row as text, "" when there is none.
  std::string Query(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db_) << "\n  in: " << sql;
    std::string value;
    if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      if (text != nullptr) {
        value.assign(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, 0)));
      }
    }
    sqlite3_finalize(stmt);
    return value;
  }

  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// As SQL, the seq the store gives its next outbox entry once the relay has
// drained it: entries put back by hand take this and the ones after it.
inline constexpr const char* kNextSeqAfterDrain =
    "(SELECT CAST(value AS INTEGER) + 1 FROM tradestore_meta WHERE key = "
    "'relay_acked_seq')";

// The trades table of the oldest execution-service code: the plan's seven
// columns, decimals with NUMERIC affinity (so SQLite keeps them as REAL).
inline constexpr const char* kLegacyTradesTable =
    "CREATE TABLE trades (id INTEGER PRIMARY KEY, symbol TEXT, side TEXT, "
    "quantity DECIMAL(18,8), price DECIMAL(18,8), timestamp DATETIME, "
    "status TEXT)";

// SQL adding good legacy rows with ids first..last.
inline std::string LegacyRowsSql(int64_t first, int64_t last) {
  return "WITH RECURSIVE n(i) AS (SELECT " + std::to_string(first) +
         " UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(last) +
         ") INSERT INTO trades (id, symbol, side, quantity, price, timestamp, "
         "status) SELECT i, 'AAPL', 'BUY', '1.5', '100.25', "
         "'2024-01-02 03:04:05', 'FILLED' FROM n";
}

}  // namespace tradestore::testing

#endif  // TRADESTORE_TESTS_TESTING_SQLITE_FILE_H_
