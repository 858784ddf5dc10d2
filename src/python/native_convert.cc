#include "native_convert.h"

#include <datetime.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "tradestore/decimal.h"
#include "tradestore/internal/status_macros.h"

namespace py = pybind11;

namespace tradestore::python {
namespace {

// What tradestore.values gave BindValues. Never freed: the module lives as
// long as the interpreter, and freeing at exit would need the GIL.
struct Bound {
  py::object trade_type, insert_result_type, decimal_type, from_status;
  py::object sides[2], statuses[6];  // the enum members, by C++ value
  // The Python helpers, for everything off the fast path.
  py::object to_decimal, decimal_text, text, to_micros, from_micros, to_side,
      to_status;
  py::object zero, one;
  // Interned attribute names, in Trade's field order.
  py::str id, symbol, side, quantity, price, timestamp, status, client_order_id,
      fee, version, created_at, updated_at, trade, created, stored;
};
Bound* bound = nullptr;

constexpr char kStoredTrade[] = "tradestore.stored_trade";

py::object Steal(PyObject* o) {
  if (o == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(o);
}

py::object Get(py::handle obj, const py::str& name) {
  return Steal(PyObject_GetAttr(obj.ptr(), name.ptr()));
}

// The field's name in front of the parser's own words.
absl::Status Named(const char* field, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat(field, ": ", status.message()));
}

// UTF-8 of a str; a non-str or a lone surrogate goes to values.text(),
// which raises naming the field.
std::string Text(const char* field, py::handle v) {
  if (PyUnicode_Check(v.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(v.ptr(), &size);
    if (data != nullptr) return std::string(data, size);
    PyErr_Clear();
  }
  bound->text(field, v);
  throw py::type_error(
      absl::StrCat(field, ": expected str, got ", Py_TYPE(v.ptr())->tp_name));
}

int64_t Int(const char* field, py::handle v) {
  if (!PyLong_Check(v.ptr())) {
    throw py::type_error(
        absl::StrCat(field, ": expected int, got ", Py_TYPE(v.ptr())->tp_name));
  }
  const long long n = PyLong_AsLongLong(v.ptr());
  if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
  return n;
}

// Decimal's str is plain text unless the exponent is large or small; then
// (or for a value that is not a Decimal) the helpers decide.
absl::StatusOr<Decimal> DecimalFrom(const char* field, py::handle v) {
  py::object d = py::reinterpret_borrow<py::object>(v);
  if (Py_TYPE(v.ptr()) !=
      reinterpret_cast<PyTypeObject*>(bound->decimal_type.ptr())) {
    d = bound->to_decimal(field, v);
  }
  py::str s(d);
  std::string text = Text(field, s);
  if (text.find_first_of("Ee") != std::string::npos) {
    text = Text(field, bound->decimal_text(field, d));
  }
  auto parsed = Decimal::Parse(text);
  if (!parsed.ok()) return Named(field, parsed.status());
  return *parsed;
}

absl::StatusOr<Timestamp> TimeFrom(const char* field, py::handle v) {
  auto t = Timestamp::FromUnixMicros(MicrosFromPython(field, v));
  if (!t.ok()) return Named(field, t.status());
  return *t;
}

py::object DecimalToPython(Decimal d) {
  const py::str text(d.ToString());
  return Steal(PyObject_CallOneArg(bound->decimal_type.ptr(), text.ptr()));
}

// A new instance without running __init__: the store's values are valid.
py::object New(const py::object& type) {
  auto* t = reinterpret_cast<PyTypeObject*>(type.ptr());
  return Steal(t->tp_alloc(t, 0));
}

// Trade and InsertResult keep their fields in slots.
void SetField(py::handle obj, const py::str& name, py::handle value) {
  if (PyObject_SetAttr(obj.ptr(), name.ptr(), value.ptr()) != 0) {
    throw py::error_already_set();
  }
}

constexpr Py_ssize_t kTradeFields = 12;
constexpr Py_ssize_t kTradeRequired = 5;  // symbol .. timestamp

// Trade's field names, in its positional order.
std::array<const py::str*, kTradeFields> TradeFieldNames(const Bound& b) {
  return {&b.symbol,    &b.side,    &b.quantity,        &b.price,
          &b.timestamp, &b.status,  &b.client_order_id, &b.fee,
          &b.id,        &b.version, &b.created_at,      &b.updated_at};
}

// Puts each argument of a vectorcall in its field's slot of `v`, as Python
// binds them; false with a TypeError set when they do not fit.
bool BindTradeArguments(const std::array<const py::str*, kTradeFields>& names,
                        PyObject* const* args, Py_ssize_t nargs,
                        PyObject* kwnames, PyObject** v) {
  if (nargs > kTradeFields) {
    PyErr_Format(PyExc_TypeError,
                 "Trade() takes at most %zd positional arguments (%zd given)",
                 kTradeFields, nargs);
    return false;
  }
  std::copy(args, args + nargs, v);
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t k = 0; k < nkw; ++k) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, k);
    // Call sites pass interned names: compare pointers first.
    Py_ssize_t j = 0;
    while (j < kTradeFields && names[j]->ptr() != name) ++j;
    if (j == kTradeFields) {
      j = 0;
      while (j < kTradeFields &&
             PyUnicode_Compare(names[j]->ptr(), name) != 0) {
        ++j;
      }
    }
    if (j == kTradeFields) {
      PyErr_Format(PyExc_TypeError,
                   "Trade() got an unexpected keyword argument '%U'", name);
      return false;
    }
    if (v[j] != nullptr) {
      PyErr_Format(PyExc_TypeError,
                   "Trade() got multiple values for argument '%U'", name);
      return false;
    }
    v[j] = args[nargs + k];
  }
  for (Py_ssize_t j = 0; j < kTradeRequired; ++j) {
    if (v[j] == nullptr) {
      PyErr_Format(PyExc_TypeError, "Trade() missing required argument '%U'",
                   names[j]->ptr());
      return false;
    }
  }
  return true;
}

// Converts the bound arguments (side, status and decimals to their types,
// defaults for the rest) and sets them on `self`.
void SetTradeFields(const Bound& b,
                    const std::array<const py::str*, kTradeFields>& names,
                    PyObject* self, PyObject* const* v) {
  const auto is = [](PyObject* o, const py::object& like) {
    return Py_TYPE(o) == Py_TYPE(like.ptr());
  };
  const auto decimal = [&](const char* field, PyObject* o) {
    if (Py_TYPE(o) == reinterpret_cast<PyTypeObject*>(b.decimal_type.ptr())) {
      return py::reinterpret_borrow<py::object>(o);
    }
    return b.to_decimal(field, py::handle(o));
  };
  py::object fields[kTradeFields];
  for (Py_ssize_t j = 0; j < kTradeFields; ++j) {
    fields[j] = py::reinterpret_borrow<py::object>(v[j] ? v[j] : Py_None);
  }
  if (!is(v[1], b.sides[0])) fields[1] = b.to_side(fields[1]);
  fields[2] = decimal("quantity", v[2]);
  fields[3] = decimal("price", v[3]);
  if (v[5] == nullptr) {
    fields[5] = b.statuses[static_cast<int>(TradeStatus::kNew)];
  } else if (!is(v[5], b.statuses[0])) {
    fields[5] = b.to_status(fields[5]);
  }
  if (v[7] != nullptr && v[7] != Py_None) fields[7] = decimal("fee", v[7]);
  if (v[8] == nullptr) fields[8] = b.zero;
  if (v[9] == nullptr) fields[9] = b.one;
  for (Py_ssize_t j = 0; j < kTradeFields; ++j) {
    SetField(self, *names[j], fields[j]);
  }
}

// Trade.__init__ in C: it runs on every fill, on the service's latency
// path (tools/bench/python_bench.py). The same rules as the Python one in
// values.py, which it replaces.
PyObject* TradeInit(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                    PyObject* kwnames) {
  const Bound& b = *bound;
  const auto names = TradeFieldNames(b);
  PyObject* v[kTradeFields] = {};
  if (!BindTradeArguments(names, args, nargs, kwnames, v)) return nullptr;
  try {
    SetTradeFields(b, names, self, v);
  } catch (py::error_already_set& e) {
    e.restore();
    return nullptr;
  }
  Py_RETURN_NONE;
}

// Trade(...) itself: the type's vectorcall skips the argument tuple and
// dict that a call through type() builds.
PyObject* TradeNew(PyObject* type, PyObject* const* args, size_t nargsf,
                   PyObject* kwnames) {
  auto* t = reinterpret_cast<PyTypeObject*>(type);
  PyObject* self = t->tp_alloc(t, 0);
  if (self == nullptr) return nullptr;
  PyObject* none = TradeInit(self, args, PyVectorcall_NARGS(nargsf), kwnames);
  if (none == nullptr) {
    Py_DECREF(self);
    return nullptr;
  }
  Py_DECREF(none);
  return self;
}

void InstallTradeInit(const py::object& trade_type) {
  static PyMethodDef def = {
      "__init__",
      reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(TradeInit)),
      METH_FASTCALL | METH_KEYWORDS,
      "__init__($self, /, symbol, side, quantity, price, timestamp, "
      "status='NEW', client_order_id=None, fee=None, id=0, version=1, "
      "created_at=None, updated_at=None)\n--\n\n"
      "One execution record (see tradestore.Trade)."};
  py::object init = Steal(PyDescr_NewMethod(
      reinterpret_cast<PyTypeObject*>(trade_type.ptr()), &def));
  trade_type.attr("__init__") = init;
  // Only Trade itself: a subclass is built by type() and runs its own
  // __init__.
  reinterpret_cast<PyTypeObject*>(trade_type.ptr())->tp_vectorcall = TradeNew;
}

}  // namespace

void SetPythonError(const absl::Status& status) {
  py::object error = bound->from_status(static_cast<int>(status.code()),
                                        std::string(status.message()));
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(error.ptr())),
                  error.ptr());
}

void BindValues(py::module_ values) {
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
  auto* b = new Bound;
  b->trade_type = values.attr("Trade");
  b->insert_result_type = values.attr("InsertResult");
  b->decimal_type = values.attr("Decimal");
  b->from_status = py::module_::import("tradestore.errors").attr("from_status");
  for (int i = 0; i < 2; ++i) {
    b->sides[i] =
        values.attr("Side")(std::string(SideName(static_cast<Side>(i))));
  }
  for (int i = 0; i < 6; ++i) {
    b->statuses[i] = values.attr("Status")(
        std::string(StatusName(static_cast<TradeStatus>(i))));
  }
  b->to_decimal = values.attr("to_decimal");
  b->decimal_text = values.attr("decimal_text");
  b->text = values.attr("text");
  b->to_micros = values.attr("to_micros");
  b->to_side = values.attr("to_side");
  b->to_status = values.attr("to_status");
  b->zero = py::int_(0);
  b->one = py::int_(1);
  b->from_micros = values.attr("from_micros");
  const auto name = [](const char* s) {
    return py::reinterpret_steal<py::str>(PyUnicode_InternFromString(s));
  };
  b->id = name("id");
  b->symbol = name("symbol");
  b->side = name("side");
  b->quantity = name("quantity");
  b->price = name("price");
  b->timestamp = name("timestamp");
  b->status = name("status");
  b->client_order_id = name("client_order_id");
  b->fee = name("fee");
  b->version = name("version");
  b->created_at = name("created_at");
  b->updated_at = name("updated_at");
  b->trade = name("trade");
  b->created = name("created");
  b->stored = name("_stored");
  values.attr("_stored_trade") = py::cpp_function(
      [](py::handle capsule) {
        const auto* t = static_cast<const Trade*>(
            PyCapsule_GetPointer(capsule.ptr(), kStoredTrade));
        if (t == nullptr) throw py::error_already_set();
        return TradeToPython(*t);
      },
      py::arg("stored"));
  bound = b;
  InstallTradeInit(b->trade_type);
}

int64_t MicrosFromPython(const char* field, py::handle v) {
  PyObject* o = v.ptr();
  if (PyDateTime_CheckExact(o) &&
      PyDateTime_DATE_GET_TZINFO(o) == PyDateTime_TimeZone_UTC) {
    auto t = Timestamp::FromCivil(
        PyDateTime_GET_YEAR(o), PyDateTime_GET_MONTH(o), PyDateTime_GET_DAY(o),
        PyDateTime_DATE_GET_HOUR(o), PyDateTime_DATE_GET_MINUTE(o),
        PyDateTime_DATE_GET_SECOND(o), PyDateTime_DATE_GET_MICROSECOND(o));
    if (t.ok()) return t->unix_micros();
  }
  return bound->to_micros(field, v).cast<int64_t>();
}

absl::StatusOr<Trade> TradeFromPython(py::handle obj) {
  const Bound& b = *bound;
  if (PyObject_IsInstance(obj.ptr(), b.trade_type.ptr()) != 1) {
    throw py::type_error(absl::StrCat("insert: expected tradestore.Trade, got ",
                                      Py_TYPE(obj.ptr())->tp_name));
  }
  Trade t;
  t.id = Int("id", Get(obj, b.id));
  t.symbol = Text("symbol", Get(obj, b.symbol));
  TS_ASSIGN_OR_RETURN(t.side, ParseSide(Text("side", Get(obj, b.side))));
  TS_ASSIGN_OR_RETURN(t.quantity,
                      DecimalFrom("quantity", Get(obj, b.quantity)));
  TS_ASSIGN_OR_RETURN(t.price, DecimalFrom("price", Get(obj, b.price)));
  TS_ASSIGN_OR_RETURN(t.timestamp,
                      TimeFrom("timestamp", Get(obj, b.timestamp)));
  TS_ASSIGN_OR_RETURN(t.status,
                      ParseStatus(Text("status", Get(obj, b.status))));
  if (py::object key = Get(obj, b.client_order_id); !key.is_none()) {
    t.client_order_id = Text("client_order_id", key);
  }
  if (py::object fee = Get(obj, b.fee); !fee.is_none()) {
    TS_ASSIGN_OR_RETURN(t.fee, DecimalFrom("fee", fee));
  }
  t.version = Int("version", Get(obj, b.version));
  if (py::object at = Get(obj, b.created_at); !at.is_none()) {
    TS_ASSIGN_OR_RETURN(t.created_at, TimeFrom("created_at", at));
  }
  if (py::object at = Get(obj, b.updated_at); !at.is_none()) {
    TS_ASSIGN_OR_RETURN(t.updated_at, TimeFrom("updated_at", at));
  }
  return t;
}

py::object TimeToPython(Timestamp time) {
  const Timestamp::Civil c = time.ToCivil();
  return Steal(PyDateTimeAPI->DateTime_FromDateAndTime(
      c.year, c.month, c.day, c.hour, c.minute, c.second, c.micros,
      PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType));
}

// The store's own values, already valid: no second validation (this runs
// on every call's return, on the service's latency path).
py::object TradeToPython(const Trade& t) {
  const Bound& b = *bound;
  py::object obj = New(b.trade_type);
  py::handle d = obj;
  SetField(d, b.symbol, py::str(t.symbol));
  SetField(d, b.side, b.sides[static_cast<int>(t.side)]);
  SetField(d, b.quantity, DecimalToPython(t.quantity));
  SetField(d, b.price, DecimalToPython(t.price));
  SetField(d, b.timestamp, TimeToPython(t.timestamp));
  SetField(d, b.status, b.statuses[static_cast<int>(t.status)]);
  SetField(d, b.client_order_id,
           t.client_order_id ? py::object(py::str(*t.client_order_id))
                             : py::object(py::none()));
  SetField(d, b.fee, t.fee ? DecimalToPython(*t.fee) : py::object(py::none()));
  SetField(d, b.id, py::int_(t.id));
  SetField(d, b.version, py::int_(t.version));
  SetField(d, b.created_at, TimeToPython(t.created_at));
  SetField(d, b.updated_at, TimeToPython(t.updated_at));
  return obj;
}

py::list TradesToPython(const std::vector<Trade>& trades) {
  py::list out(trades.size());
  for (size_t i = 0; i < trades.size(); ++i) {
    out[i] = TradeToPython(trades[i]);
  }
  return out;
}

// The trade is kept in C++ and built for Python only when read: a fill
// handler reads the id, and building a Trade costs more than the rest of
// the call's conversions on a cold cache (tools/bench/python_bench.py).
py::object InsertResultToPython(InsertResult result) {
  const Bound& b = *bound;
  py::object obj = New(b.insert_result_type);
  SetField(obj, b.id, py::int_(result.trade.id));
  SetField(obj, b.created, py::bool_(result.created));
  auto* kept = new Trade(std::move(result.trade));
  PyObject* capsule = PyCapsule_New(kept, kStoredTrade, [](PyObject* c) {
    delete static_cast<Trade*>(PyCapsule_GetPointer(c, kStoredTrade));
  });
  if (capsule == nullptr) {
    delete kept;
    throw py::error_already_set();
  }
  SetField(obj, b.stored, Steal(capsule));
  return obj;
}

}  // namespace tradestore::python
