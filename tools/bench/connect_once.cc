// The process of verify_bench's incremental floor: links only libpq, as
// the CLI links it, connects to the DSN given and runs SELECT 1. Exits 0
// when it could.
#include <libpq-fe.h>

#include <cstdio>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: connect_once DSN\n");
    return 2;
  }
  PGconn* conn = PQconnectdb(argv[1]);
  int code = 1;
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* r = PQexec(conn, "SELECT 1");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) code = 0;
    PQclear(r);
  }
  if (code != 0) std::fprintf(stderr, "connect_once: %s", PQerrorMessage(conn));
  PQfinish(conn);
  return code;
}
