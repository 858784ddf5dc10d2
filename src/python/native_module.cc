// tradestore._native: the C++ stores for the Python package. Trades are
// converted in C (native_convert.h), with the GIL; every call that reaches
// SQLite or Postgres then runs without it, so Python threads write side by
// side.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "native_convert.h"
#include "tradestore/internal/mutex.h"
#include "tradestore/internal/rw_lock.h"
#include "tradestore/migration/phased_trade_store.h"
#include "tradestore/postgres/pg_trade_store.h"
#include "tradestore/sqlite/sqlite_trade_store.h"
#include "tradestore/version.h"

namespace py = pybind11;

namespace tradestore::python {
namespace {

using Release = py::call_guard<py::gil_scoped_release>;
using Millis = std::chrono::milliseconds;

// entries, oldest enqueued_at (us) or None, oldest seq, last seq.
using OutboxTuple =
    std::tuple<int64_t, std::optional<int64_t>, int64_t, int64_t>;
// entries applied, rows written, skipped, quarantined, rounds, failures,
// replays, last error.
using RelayTuple = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t,
                              int64_t, int64_t, std::string>;

// One open store. Calls may come from many threads at once; close() waits
// for the calls in flight. In a child of fork() the store is refused (its
// connections and threads belong to the parent) and never closed (closing
// would end the parent's connections).
class Store {
 public:
  Store(std::unique_ptr<TradeStore> store, PhasedTradeStore* phased)
      : store_(std::move(store)), phased_(phased), owner_(getpid()) {}
  ~Store() {
    if (getpid() != owner_) {
      (void)store_.release();
      return;
    }
    if (store_ != nullptr && PyGILState_Check()) {
      py::gil_scoped_release release;
      store_.reset();
    }
  }

  // call(store) with the store held open: close() waits for it.
  template <typename F>
  auto With(F call) {
    internal::ScopedSharedLock lock(mu_);
    return call(Open());
  }
  // The same on a phased store.
  template <typename F>
  auto WithPhased(F call) {
    internal::ScopedSharedLock lock(mu_);
    Open();
    if (phased_ == nullptr) {
      Raise(absl::FailedPreconditionError("not a phased store"));
    }
    return call(*phased_);
  }

  void Close() {
    if (getpid() != owner_) return;
    internal::ScopedLock lock(mu_);
    store_.reset();
    phased_ = nullptr;
  }

 private:
  TradeStore& Open() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    if (getpid() != owner_) {
      Raise(absl::FailedPreconditionError(absl::StrCat(
          "this store was opened in process ", owner_,
          " and cannot be used after fork(): open a new one in process ",
          getpid())));
    }
    if (store_ == nullptr) {
      Raise(absl::FailedPreconditionError("the store is closed"));
    }
    return *store_;
  }

  // Writer-preferring: close() is not kept waiting by a stream of calls.
  internal::RwLock mu_;
  std::unique_ptr<TradeStore> store_ ABSL_GUARDED_BY(mu_);
  // store_ itself when phased, else null.
  PhasedTradeStore* phased_ ABSL_GUARDED_BY(mu_);
  const pid_t owner_;
};

PgOptions Pg(const std::string& dsn, double deadline_s, int pool_size,
             const std::string& replica_dsn, int64_t max_replica_lag_bytes) {
  PgOptions pg;
  pg.dsn = dsn;
  pg.backoff.deadline = Millis(static_cast<int64_t>(deadline_s * 1000));
  pg.pool_size = pool_size;
  pg.replica_dsn = replica_dsn;
  pg.max_replica_lag_bytes = max_replica_lag_bytes;
  return pg;
}

std::unique_ptr<Store> OpenSqlite(const std::string& path,
                                  bool create_if_missing, bool sync_full,
                                  int busy_timeout_ms) {
  auto store =
      Unwrap(SqliteTradeStore::Open({.path = path,
                                     .create_if_missing = create_if_missing,
                                     .sync_full = sync_full,
                                     .busy_timeout_ms = busy_timeout_ms}));
  return std::make_unique<Store>(std::move(store), nullptr);
}

std::unique_ptr<Store> OpenPg(const std::string& dsn, double deadline_s,
                              int pool_size, const std::string& replica_dsn,
                              int64_t max_replica_lag_bytes) {
  auto store = Unwrap(PgTradeStore::Open(
      Pg(dsn, deadline_s, pool_size, replica_dsn, max_replica_lag_bytes)));
  return std::make_unique<Store>(std::move(store), nullptr);
}

std::unique_ptr<Store> OpenPhased(const std::string& sqlite_path,
                                  const std::string& dsn, bool synchronous,
                                  double sync_timeout_s, double phase_poll_s,
                                  bool run_relay, bool sqlite_sync_full,
                                  double deadline_s, int pool_size,
                                  const std::string& replica_dsn,
                                  int64_t max_replica_lag_bytes) {
  PhasedStoreOptions o;
  o.sqlite_path = sqlite_path;
  o.pg = Pg(dsn, deadline_s, pool_size, replica_dsn, max_replica_lag_bytes);
  o.synchronous = synchronous;
  o.sync_timeout = Millis(static_cast<int64_t>(sync_timeout_s * 1000));
  o.phase_poll = Millis(static_cast<int64_t>(phase_poll_s * 1000));
  o.run_relay = run_relay;
  o.sqlite_sync_full = sqlite_sync_full;
  auto store = Unwrap(PhasedTradeStore::Open(o));
  PhasedTradeStore* phased = store.get();
  return std::make_unique<Store>(std::move(store), phased);
}

// Runs f without the GIL; its exceptions reach Python once the GIL is back.
template <typename F>
auto WithoutGil(F f) {
  py::gil_scoped_release release;
  return f();
}

// insert as a plain CPython function (METH_O) bound to one Store: on a
// cold cache, as after the pause between two fills, pybind11's dispatcher
// costs more than the conversions, and insert is the service's latency path.
constexpr char kInsertTarget[] = "tradestore._native.insert";
struct InsertTarget {
  py::object owner;  // keeps the Store alive
  Store* store;
};

PyObject* InsertFunction(PyObject* self, PyObject* trade) {
  auto* target =
      static_cast<InsertTarget*>(PyCapsule_GetPointer(self, kInsertTarget));
  try {
    const Trade t = Unwrap(TradeFromPython(trade));
    InsertResult r = WithoutGil([&] {
      return Unwrap(target->store->With(
          [&](TradeStore& store) { return store.Insert(t); }));
    });
    return InsertResultToPython(std::move(r)).release().ptr();
  } catch (const StatusError& e) {
    SetPythonError(e.status);
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

PyMethodDef insert_def = {
    "insert", InsertFunction, METH_O,
    "insert(trade) -> InsertResult: stores a new trade (see TradeStore)."};

py::object InsertFunctionOf(py::object store) {
  auto* target = new InsertTarget{store, store.cast<Store*>()};
  PyObject* capsule = PyCapsule_New(target, kInsertTarget, [](PyObject* c) {
    delete static_cast<InsertTarget*>(PyCapsule_GetPointer(c, kInsertTarget));
  });
  if (capsule == nullptr) {
    delete target;
    throw py::error_already_set();
  }
  PyObject* f = PyCFunction_New(&insert_def, capsule);
  Py_DECREF(capsule);
  if (f == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(f);
}

// Runs f on the Store's TradeStore without the GIL.
template <typename F>
auto OnStore(Store& s, F f) {
  return WithoutGil([&] { return Unwrap(s.With(f)); });
}

// The TradeStore contract.
void DefineTradeMethods(py::class_<Store>& store) {
  store.def("insert_function", &InsertFunctionOf)
      .def("update_status",
           [](Store& s, int64_t id, const std::string& status,
              std::optional<int64_t> expected_version) {
             const TradeStatus to = Unwrap(ParseStatus(status));
             return TradeToPython(OnStore(s, [&](TradeStore& t) {
               return t.UpdateStatus(id, to, expected_version);
             }));
           })
      .def("get",
           [](Store& s, int64_t id) {
             return TradeToPython(
                 OnStore(s, [&](TradeStore& t) { return t.Get(id); }));
           })
      .def("get_by_client_order_id",
           [](Store& s, const std::string& key) {
             return TradeToPython(OnStore(
                 s, [&](TradeStore& t) { return t.GetByClientOrderId(key); }));
           })
      .def("query_by_symbol",
           [](Store& s, const std::string& symbol, py::handle start,
              py::handle end, int limit) {
             SymbolQuery q;
             q.symbol = symbol;
             q.from = Unwrap(
                 Timestamp::FromUnixMicros(MicrosFromPython("start", start)));
             q.to = Unwrap(
                 Timestamp::FromUnixMicros(MicrosFromPython("end", end)));
             q.limit = limit;
             return TradesToPython(
                 OnStore(s, [&](TradeStore& t) { return t.QueryBySymbol(q); }));
           })
      .def(
          "count",
          [](Store& s) {
            return Unwrap(s.With([&](TradeStore& t) { return t.Count(); }));
          },
          Release())
      .def("scan_by_id", [](Store& s, int64_t after_id, int limit) {
        return TradesToPython(OnStore(
            s, [&](TradeStore& t) { return t.ScanById(after_id, limit); }));
      });
}

// The migration's view: phase, outbox, relay, metrics.
void DefineMigrationMethods(py::class_<Store>& store) {
  store
      .def(
          "phase",
          [](Store& s) {
            return std::string(PhaseName(
                s.WithPhased([](PhasedTradeStore& p) { return p.phase(); })));
          },
          Release())
      .def(
          "check_phase",
          [](Store& s) {
            Check(s.WithPhased(
                [](PhasedTradeStore& p) { return p.CheckPhase(); }));
          },
          Release())
      .def(
          "drain_outbox",
          [](Store& s, double timeout_s) {
            const Millis timeout(static_cast<int64_t>(timeout_s * 1000));
            Check(s.WithPhased(
                [&](PhasedTradeStore& p) { return p.DrainOutbox(timeout); }));
          },
          Release())
      .def(
          "outbox_status",
          [](Store& s) {
            const OutboxStatus o = Unwrap(s.WithPhased(
                [](PhasedTradeStore& p) { return p.GetOutboxStatus(); }));
            return OutboxTuple{o.entries,
                               o.oldest ? std::optional(o.oldest->unix_micros())
                                        : std::nullopt,
                               o.oldest_seq, o.last_seq};
          },
          Release())
      .def(
          "relay_stats",
          [](Store& s) {
            const RelayStats r = s.WithPhased(
                [](PhasedTradeStore& p) { return p.relay_stats(); });
            return RelayTuple{r.entries_applied, r.rows_written,
                              r.rows_skipped,    r.rows_quarantined,
                              r.rounds,          r.failures,
                              r.replays,         r.last_error};
          },
          Release())
      .def(
          "sync_fallbacks",
          [](Store& s) {
            return s.WithPhased(
                [](PhasedTradeStore& p) { return p.sync_fallbacks(); });
          },
          Release())
      .def(
          "metrics",
          [](Store& s) {
            return s.WithPhased(
                [](PhasedTradeStore& p) { return p.PrometheusMetrics(); });
          },
          Release())
      .def("close", &Store::Close, Release());
}

void DefineStore(py::module_& m) {
  py::class_<Store> store(m, "Store");
  DefineTradeMethods(store);
  DefineMigrationMethods(store);
}

}  // namespace
}  // namespace tradestore::python

PYBIND11_MODULE(_native, m) {
  using namespace tradestore::python;  // NOLINT: the module's own names
  m.doc() = "tradestore's C++ stores; use the tradestore package instead.";
  m.attr("__version__") = tradestore::kVersion;
  // A failed status becomes the tradestore.Error subclass of its code.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      SetPythonError(e.status);
    }
  });
  DefineStore(m);
  m.def("bind_values", &BindValues, py::arg("values"));
  m.def("open_sqlite", &OpenSqlite, py::arg("path"),
        py::arg("create_if_missing"), py::arg("sync_full"),
        py::arg("busy_timeout_ms"), Release());
  m.def("open_pg", &OpenPg, py::arg("dsn"), py::arg("deadline_s"),
        py::arg("pool_size"), py::arg("replica_dsn"),
        py::arg("max_replica_lag_bytes"), Release());
  m.def("open_phased", &OpenPhased, py::arg("sqlite_path"), py::arg("dsn"),
        py::arg("synchronous"), py::arg("sync_timeout_s"),
        py::arg("phase_poll_s"), py::arg("run_relay"),
        py::arg("sqlite_sync_full"), py::arg("deadline_s"),
        py::arg("pool_size"), py::arg("replica_dsn"),
        py::arg("max_replica_lag_bytes"), Release());
}
