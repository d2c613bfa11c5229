// BatchParser binding: `_core.feed_many(streams, items)` feeds one delta to each of many streams
// in one native call, parsing with the GIL released.
//
// Ownership (nothing the parse reads can be freed or changed under it):
//   1. With the GIL held, `items` is copied into a tuple we own (so the caller, another thread or
//      an `__eq__` may clear or change their list), every stream is looked up (the lookup may
//      run a stream id's `__hash__`/`__eq__`: only owned objects are used across it), its parser
//      is referenced and leased (marked in use, so no other call can feed, read or re-initialise
//      it until we are done), and every payload is turned into bytes we own or into a copied
//      id vector.
//   2. The parsing runs with the GIL released; an id_factory re-acquires it, and then other
//      threads run, but every parser of this call is leased.
//   3. With the GIL held, the Deltas are built and the leases dropped.
//
// Partial failure (docs/design.md): a stream whose feed raises (its id_factory raised or
// returned a bad id) does not stop the others. Every stream is fed; if any raised, the first
// exception is raised with two attributes: `deltas`, a list of (stream_id, Delta) for every stream
// that consumed its delta, and `errors`, a list of (stream_id, exception) for the others (their
// parsers are broken, as a StreamParser whose id_factory raised). Errors found before parsing
// (unknown or finished stream, bad payload, a parser in use, a duplicate) raise before any stream
// consumes anything.
#include <Python.h>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>

#include "bindings.h"
#include "glue.h"
#include "hermes_stream/error.h"
#include "hermes_stream/stream_parser.h"

namespace py = pybind11;

namespace hermes_stream::py_glue {
namespace {

struct Work {
  py::object parser;  // strong reference to the parser object (released after the lease)
  ParserLease lease;
  PyObject* sid = nullptr;  // borrowed from `owned_items`
  std::string_view text;
  std::vector<std::int64_t> ids;
  bool tokens = false;
  const DeltaOut* out = nullptr;
  std::exception_ptr error;
};

std::string Repr(PyObject* o) {
  PyObject* r = PyObject_Repr(o);
  if (r == nullptr) {
    PyErr_Clear();
    return "<stream id>";
  }
  Py_ssize_t n = 0;
  const char* s = PyUnicode_AsUTF8AndSize(r, &n);
  std::string out = s == nullptr ? "<stream id>" : std::string(s, static_cast<std::size_t>(n));
  if (s == nullptr) PyErr_Clear();
  Py_DECREF(r);
  return out;
}

// The Python exception object for a stored C++ exception.
py::object ExceptionObject(const std::exception_ptr& e) {
  SetErrorFromException(e);
  py::error_already_set err;  // fetches (and normalises) it
  return err.value();
}

py::object FeedMany(const py::dict& streams, py::handle items) {
  if (!PyList_Check(items.ptr()) && !PyTuple_Check(items.ptr())) {
    throw py::type_error("feed_many() takes a list of (stream_id, delta) pairs");
  }
  // Our own tuple of the pairs: the pairs (tuples, so immutable) own their ids and payloads.
  py::object owned_items = py::reinterpret_steal<py::object>(PySequence_Tuple(items.ptr()));
  if (!owned_items) throw py::error_already_set();
  const Py_ssize_t n = PyTuple_GET_SIZE(owned_items.ptr());
  std::vector<py::object> keep;  // owners of converted texts (strs with lone surrogates)
  std::vector<Work> work(static_cast<std::size_t>(n));
  const void* const call = &work;  // this call's lease tag
  for (Py_ssize_t i = 0; i < n; ++i) {
    Work& w = work[static_cast<std::size_t>(i)];
    PyObject* pair = PyTuple_GET_ITEM(owned_items.ptr(), i);
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      throw py::type_error("feed_many() items must be (stream_id, delta) tuples");
    }
    w.sid = PyTuple_GET_ITEM(pair, 0);
    PyObject* payload = PyTuple_GET_ITEM(pair, 1);
    PyObject* found = PyDict_GetItemWithError(streams.ptr(), w.sid);  // may run Python code
    if (found == nullptr) {
      if (PyErr_Occurred()) throw py::error_already_set();
      throw py::key_error("unknown stream id " + Repr(w.sid) + "; add() it first");
    }
    w.parser = py::reinterpret_borrow<py::object>(found);  // owned from here on
    if (g_parser_type != nullptr && PyObject_TypeCheck(found, g_parser_type) &&
        ParserOwner(found) == call) {
      throw py::value_error("stream id " + Repr(w.sid) + " appears twice in one feed_many() call");
    }
    w.lease.Acquire(found, call);
    StreamParser& p = w.lease.parser();
    if (PyUnicode_Check(payload)) {
      py::object converted;
      w.text = Utf8Lossless(payload, &converted);  // as feed() does
      if (converted) keep.push_back(std::move(converted));
    } else if (PyBytes_Check(payload)) {
      w.text = std::string_view(PyBytes_AS_STRING(payload),
                                static_cast<std::size_t>(PyBytes_GET_SIZE(payload)));
    } else if (PyList_Check(payload) || PyTuple_Check(payload)) {
      const auto& vocab = p.options().vocab;
      if (!vocab) throw UsageError("token ids need a vocab: create the stream with vocab=...");
      w.tokens = true;
      // Copied now, with no Python code running in between (exact reads of ints).
      const Py_ssize_t m = PySequence_Fast_GET_SIZE(payload);
      PyObject** xs = PySequence_Fast_ITEMS(payload);
      w.ids.reserve(static_cast<std::size_t>(m));
      for (Py_ssize_t k = 0; k < m; ++k) w.ids.push_back(TokenId(xs[k]));
      vocab->RequireKnown(w.ids.data(), w.ids.size());  // all checked before any stream is fed
    } else {
      throw py::type_error(std::string("feed_many() deltas must be str, bytes or a list of token "
                                       "ids, got ") +
                           Py_TYPE(payload)->tp_name);
    }
    p.CheckLoopUnit(w.tokens);  // before any stream is fed: a mixed-unit guard raises here
    if (p.finished()) {
      throw UsageError("feed_many(): stream " + Repr(w.sid) + " is finished");
    }
  }
  bool failed = false;
  {
    py::gil_scoped_release release;
    for (Work& w : work) {
      StreamParser& p = w.lease.parser();
      try {
        w.out = w.tokens ? &p.FeedTokens(w.ids.data(), w.ids.size()) : &p.Feed(w.text, 1);
      } catch (...) {
        w.error = std::current_exception();
        failed = true;
      }
    }
  }
  // Each parser's DeltaOut is valid until its next call, and the leases keep other calls out.
  std::exception_ptr build_error;
  if (!failed) {
    py::dict out;
    try {
      for (Work& w : work) {
        py::object d = ToDelta(w.lease.parser(), *w.out);
        if (PyDict_SetItem(out.ptr(), w.sid, d.ptr()) != 0) throw py::error_already_set();
      }
      return std::move(out);
    } catch (...) {
      // Building the result failed (e.g. a stream id's __hash__ raised this time): raise that,
      // with every stream's delta (rebuilt from its DeltaOut) in `deltas`.
      build_error = std::current_exception();
    }
  }
  py::list deltas;
  py::list errors;
  py::object first;
  for (Work& w : work) {
    if (w.error) {
      py::object e = ExceptionObject(w.error);
      if (!first) first = e;
      errors.append(py::make_tuple(py::handle(w.sid), e));
    } else {
      deltas.append(py::make_tuple(py::handle(w.sid), ToDelta(w.lease.parser(), *w.out)));
    }
  }
  if (!first) first = ExceptionObject(build_error);
  if (PyObject_SetAttrString(first.ptr(), "deltas", deltas.ptr()) != 0 ||
      PyObject_SetAttrString(first.ptr(), "errors", errors.ptr()) != 0) {
    // An exception type without a __dict__: wrap it.
    PyErr_Clear();
    py::object wrapper = py::reinterpret_steal<py::object>(PyObject_CallFunction(
        PyExc_RuntimeError, "s",
        "feed_many(): a stream's feed raised (the original exception is the __cause__)"));
    if (!wrapper) throw py::error_already_set();
    PyObject_SetAttrString(wrapper.ptr(), "deltas", deltas.ptr());
    PyObject_SetAttrString(wrapper.ptr(), "errors", errors.ptr());
    PyException_SetCause(wrapper.ptr(), first.inc_ref().ptr());
    first = wrapper;
  }
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(first.ptr())), first.ptr());
  throw py::error_already_set();
}

}  // namespace

void RegisterBatch(py::module_& m) {
  m.def("feed_many", &FeedMany, py::arg("streams"), py::arg("items"),
        "Internal (BatchParser): feed many streams in one call, parsing with the GIL released.");
}

}  // namespace hermes_stream::py_glue
