#include "tradestore/verify/pg_copy_out.h"

#include <pqxx/pqxx>
#include <pqxx/tablereader>

#include <vector>

#include "absl/strings/str_cat.h"
#include "tradestore/postgres/pg_pool.h"

namespace tradestore::verify {

absl::Status CopyOut(PgPool& pool, const std::string& select,
                     const std::function<bool(absl::string_view)>& on_line) {
  return pool.Transact(
      [&](pqxx::work& txn) -> absl::Status {
        txn.exec("SET LOCAL TimeZone = 'UTC'");
        txn.exec("SET LOCAL DateStyle = 'ISO'");
        std::vector<std::string> no_columns;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        // tablereader runs "COPY <name> TO STDOUT": a parenthesised query
        // is a valid <name>. The query holds only integers we formatted.
        pqxx::tablereader reader(txn, absl::StrCat("(", select, ")"),
                                 no_columns.begin(), no_columns.end());
#pragma GCC diagnostic pop
        std::string line;
        bool more = true;
        while (reader.get_raw_line(line)) {
          if (!line.empty() && line.back() == '\n') line.pop_back();
          if (more) more = on_line(line);
        }
        reader.complete();
        return absl::OkStatus();
      },
      PgPool::Kind::kRead);
}

}  // namespace tradestore::verify
