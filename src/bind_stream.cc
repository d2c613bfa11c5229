// StreamParser binding: a raw CPython type (not a pybind11 class) so that feed() is one
// METH_FASTCALL call with no dispatcher and no type-info lookup of `self` (a Python subclass).
// pybind11 is still used off the hot path (construction, message building, errors).
// feed() keeps the GIL: the work per delta is well under a microsecond, less than releasing and
// re-acquiring the GIL would cost (STYLE.md practice 5).
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <memory>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "delta_type.h"
#include "hermes_stream/error.h"
#include "hermes_stream/stream_parser.h"

namespace py = pybind11;

namespace hermes_stream::py_glue {
namespace {

// Python classes from hermes_stream._types, handed over once by the package (set_types()).
py::handle g_forced_close_cls;
py::handle g_loop_info_cls;  // set_loop_type()

// ------------------------------------------------------------------ loop guard glue
// (min_repeats, max_period_tokens, min_span_tokens, max_period_bytes, min_span_bytes, close)
// from hermes_stream._options.loop_guard_args(), or None.
void ApplyLoopGuard(ParserOptions& o, PyObject* arg) {
  if (arg == nullptr || arg == Py_None) return;
  auto t = py::cast<std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t,
                               std::int64_t, bool>>(py::handle(arg));
  LoopGuardOptions& g = o.loop_guard;
  g.enabled = true;
  std::tie(g.min_repeats, g.max_period_tokens, g.min_span_tokens, g.max_period_bytes,
           g.min_span_bytes, g.close) = t;
  LoopDetector::Validate(g.min_repeats, g.max_period_tokens, g.min_span_tokens);  // both units
  LoopDetector::Validate(g.min_repeats, g.max_period_bytes, g.min_span_bytes);
}

py::object LoopInfoObject(const LoopInfo& info, const char* unit) {
  if (!g_loop_info_cls) throw std::logic_error("hermes_stream._core.set_loop_type() not called");
  return g_loop_info_cls(info.period, info.repeats, info.start, info.end, unit);
}

void AttachLoop(PyObject* delta, const StreamParser& p, const DeltaOut& out) {
  if (!out.loop) return;
  SetDeltaLoop(delta, LoopInfoObject(out.loop_info, p.loop_unit()).release().ptr());
}

py::list Loops(const StreamParser& p) {
  py::list out;
  for (const LoopInfo& info : p.loops()) out.append(LoopInfoObject(info, p.loop_unit()));
  return out;
}

std::int64_t TokenCount(py::handle n) {
  if (!n) return 1;  // the default
  if (PyBool_Check(n.ptr()) || !PyLong_Check(n.ptr())) {
    throw py::type_error(std::string("n_tokens must be an int, got ") + Py_TYPE(n.ptr())->tp_name);
  }
  long long v = PyLong_AsLongLong(n.ptr());
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (v < 0) throw py::value_error("n_tokens must be >= 0, got " + std::to_string(v));
  return v;
}

py::object ToDelta(const DeltaOut& out, bool has_vocab) {
  PyObject* forced = Py_None;
  if (out.forced) {
    if (!g_forced_close_cls) throw std::logic_error("hermes_stream._core.set_types() not called");
    py::object ids = has_vocab ? py::object(py::cast(out.forced_ids)) : py::none();
    forced = g_forced_close_cls(py::str(out.forced_text), ids).release().ptr();
  } else {
    Py_INCREF(forced);
  }
  PyObject* calls = nullptr;
  if (out.ncalls != 0) {
    calls = PyTuple_New(static_cast<Py_ssize_t>(out.ncalls));
    if (calls == nullptr) {
      Py_DECREF(forced);
      throw py::error_already_set();
    }
    for (std::size_t i = 0; i < out.ncalls; ++i) {
      const CallFragment& f = out.calls[i];
      PyObject* frag = NewCallDelta(f.index, f.first ? &f.id : nullptr,
                                    f.first ? &f.name : nullptr, f.arguments);
      if (frag == nullptr) {
        Py_DECREF(forced);
        Py_DECREF(calls);
        throw py::error_already_set();
      }
      PyTuple_SET_ITEM(calls, static_cast<Py_ssize_t>(i), frag);
    }
  }
  PyObject* reasoning = PyUnicode_DecodeUTF8(out.reasoning.data(),
                                             static_cast<Py_ssize_t>(out.reasoning.size()), nullptr);
  PyObject* content = reasoning == nullptr
                          ? nullptr
                          : PyUnicode_DecodeUTF8(out.content.data(),
                                                 static_cast<Py_ssize_t>(out.content.size()),
                                                 nullptr);
  if (content == nullptr) {  // cannot happen: the core only emits valid UTF-8
    Py_XDECREF(reasoning);
    Py_DECREF(forced);
    Py_XDECREF(calls);
    throw py::error_already_set();
  }
  PyObject* d = NewDelta(reasoning, content, calls, forced);
  if (d == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(d);
}

py::object ToDelta(const StreamParser& p, const DeltaOut& out) {
  py::object d = ToDelta(out, static_cast<bool>(p.options().vocab));
  AttachLoop(d.ptr(), p, out);
  return d;
}

py::object FeedTokens(StreamParser& p, py::handle ids) {
  PyObject* o = ids.ptr();
  thread_local std::vector<std::int64_t> buf;
  buf.clear();
  auto as_id = [](PyObject* x) -> std::int64_t {
    if (PyBool_Check(x) || !PyLong_Check(x)) {
      throw py::type_error(std::string("token ids must be ints, got ") + Py_TYPE(x)->tp_name);
    }
    long long v = PyLong_AsLongLong(x);
    if (v == -1 && PyErr_Occurred()) {
      PyErr_Clear();
      throw py::value_error("token id out of range");
    }
    return v;
  };
  if (PyLong_Check(o) && !PyBool_Check(o)) {
    buf.push_back(as_id(o));
  } else if (PyList_Check(o) || PyTuple_Check(o)) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    PyObject** items = PySequence_Fast_ITEMS(o);
    for (Py_ssize_t i = 0; i < n; ++i) buf.push_back(as_id(items[i]));
  } else if (PyUnicode_Check(o) || PyBytes_Check(o)) {
    throw py::type_error(std::string("feed_tokens() takes token ids, got ") + Py_TYPE(o)->tp_name);
  } else {
    py::iterator it = py::iter(ids);  // TypeError for non-iterables
    for (py::handle x : it) buf.push_back(as_id(x.ptr()));
  }
  return ToDelta(p, p.FeedTokens(buf.data(), buf.size()));
}

py::object FeedStr(StreamParser& p, py::handle text, py::handle n_tokens) {
  PyObject* o = text.ptr();
  if (!PyUnicode_Check(o)) {
    throw py::type_error(std::string("feed() takes a str, got ") + Py_TYPE(o)->tp_name +
                         "; use feed_bytes() for bytes");
  }
  std::int64_t n = TokenCount(n_tokens);
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(o, &size);
  if (data != nullptr) {
    // `data` is the str's own UTF-8 buffer (cached on the object); it outlives this call.
    return ToDelta(p, p.Feed(std::string_view(data, static_cast<std::size_t>(size)), n));
  }
  // Lone surrogates: model output never raises, so pass their bytes on to become U+FFFD.
  PyErr_Clear();
  py::object raw = py::reinterpret_steal<py::object>(
      PyUnicode_AsEncodedString(o, "utf-8", "surrogatepass"));
  if (!raw) throw py::error_already_set();
  return ToDelta(p, p.Feed(std::string_view(PyBytes_AS_STRING(raw.ptr()),
                                         static_cast<std::size_t>(PyBytes_GET_SIZE(raw.ptr()))),
                        n));
}

py::object FeedBytes(StreamParser& p, py::handle data, py::handle n_tokens) {
  PyObject* o = data.ptr();
  if (PyUnicode_Check(o) || !PyObject_CheckBuffer(o)) {
    throw py::type_error(std::string("feed_bytes() takes bytes, got ") + Py_TYPE(o)->tp_name);
  }
  std::int64_t n = TokenCount(n_tokens);
  if (PyBytes_Check(o)) {
    return ToDelta(p, p.Feed(
        std::string_view(PyBytes_AS_STRING(o), static_cast<std::size_t>(PyBytes_GET_SIZE(o))), n));
  }
  Py_buffer view;
  if (PyObject_GetBuffer(o, &view, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  try {
    py::object d = ToDelta(p,
        p.Feed(std::string_view(static_cast<const char*>(view.buf),
                                static_cast<std::size_t>(view.len)),
               n));
    PyBuffer_Release(&view);
    return d;
  } catch (...) {
    PyBuffer_Release(&view);
    throw;
  }
}

py::list Segments(const StreamParser& p) {
  py::list out;
  for (const Segment& s : p.segments()) {
    out.append(py::make_tuple(py::str(SegmentKindName(s.kind)), py::str(s.text)));
  }
  return out;
}

py::list Calls(const StreamParser& p) {
  py::list out;
  for (const CallRecord& c : p.calls()) {
    out.append(py::make_tuple(c.index, c.id, c.name, c.arguments,
                              c.has_error ? py::object(py::str(c.error)) : py::none(), c.raw,
                              c.complete));
  }
  return out;
}

// ------------------------------------------------------------------------ the raw type

struct ParserObject {
  PyObject_HEAD
  StreamParser* parser;
  std::uint64_t batch_epoch;  // feed_many() call that last took this parser (duplicate check)
};

// Runs `f`, turning C++ exceptions into Python errors (same mapping as pybind11's defaults plus
// UsageError -> RuntimeError).
template <class F>
PyObject* Guard(F&& f) noexcept {
  try {
    return f().release().ptr();
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const py::builtin_exception& e) {
    e.set_error();
  } catch (const UsageError& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (const std::invalid_argument& e) {
    PyErr_SetString(PyExc_ValueError, e.what());
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  }
  return nullptr;
}

PyTypeObject* g_parser_type = nullptr;

StreamParser& Get(PyObject* self) {
  if (g_parser_type != nullptr && !PyObject_TypeCheck(self, g_parser_type)) {
    throw py::type_error("not a hermes_stream StreamParser");
  }
  StreamParser* p = reinterpret_cast<ParserObject*>(self)->parser;
  if (p == nullptr) throw UsageError("StreamParser.__init__() was not called");
  return *p;
}

// (first, n_tokens=1) from a vectorcall.
bool TwoArgs(const char* fname, const char* first_name, PyObject* const* args, Py_ssize_t nargs,
             PyObject* kwnames, PyObject** first, PyObject** n_tokens) {
  *first = nargs > 0 ? args[0] : nullptr;
  *n_tokens = nargs > 1 ? args[1] : nullptr;
  if (nargs > 2) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 2 arguments (%zd given)", fname, nargs);
    return false;
  }
  const Py_ssize_t nkw = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
  for (Py_ssize_t i = 0; i < nkw; ++i) {
    PyObject* key = PyTuple_GET_ITEM(kwnames, i);
    PyObject** slot = nullptr;
    if (PyUnicode_CompareWithASCIIString(key, first_name) == 0) {
      slot = first;
    } else if (PyUnicode_CompareWithASCIIString(key, "n_tokens") == 0) {
      slot = n_tokens;
    } else {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, key);
      return false;
    }
    if (*slot != nullptr) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%U'", fname, key);
      return false;
    }
    *slot = args[nargs + i];
  }
  if (*first == nullptr) {
    PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, first_name);
    return false;
  }
  return true;
}

PyObject* PyFeed(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* text;
  PyObject* n;
  if (!TwoArgs("feed", "text", args, nargs, kwnames, &text, &n)) return nullptr;
  return Guard([&] { return FeedStr(Get(self), text, n == nullptr ? py::handle() : n); });
}

PyObject* PyFeedBytes(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                      PyObject* kwnames) {
  PyObject* data;
  PyObject* n;
  if (!TwoArgs("feed_bytes", "data", args, nargs, kwnames, &data, &n)) return nullptr;
  return Guard([&] { return FeedBytes(Get(self), data, n == nullptr ? py::handle() : n); });
}

PyObject* PyFeedTokens(PyObject* self, PyObject* ids) {
  return Guard([&] { return FeedTokens(Get(self), ids); });
}

PyObject* PyFinish(PyObject* self, PyObject*) {
  return Guard([&] {
    StreamParser& p = Get(self);
    return ToDelta(p, p.Finish());
  });
}

// Feed all of `text` and finish without building Delta objects (for hs.parse()).
PyObject* PyFeedAllQuiet(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                         PyObject* kwnames) {
  PyObject* text;
  PyObject* n;
  if (!TwoArgs("_feed_all_quiet", "text", args, nargs, kwnames, &text, &n)) return nullptr;
  return Guard([&] {
    StreamParser& p = Get(self);
    const std::int64_t count = TokenCount(n == nullptr ? py::handle() : n);
    if (PyUnicode_Check(text)) {
      Py_ssize_t size = 0;
      const char* data = PyUnicode_AsUTF8AndSize(text, &size);
      if (data != nullptr) {
        p.Feed(std::string_view(data, static_cast<std::size_t>(size)), count);
      } else {
        PyErr_Clear();
        py::object raw = py::reinterpret_steal<py::object>(
            PyUnicode_AsEncodedString(text, "utf-8", "surrogatepass"));
        if (!raw) throw py::error_already_set();
        p.Feed(std::string_view(PyBytes_AS_STRING(raw.ptr()),
                                static_cast<std::size_t>(PyBytes_GET_SIZE(raw.ptr()))),
               count);
      }
    } else {
      FeedBytes(p, text, n == nullptr ? py::handle() : n);
    }
    p.Finish();
    return py::object(py::none());
  });
}

PyObject* PySegments(PyObject* self, PyObject*) {
  return Guard([&] { return py::object(Segments(Get(self))); });
}

PyObject* PyCalls(PyObject* self, PyObject*) {
  return Guard([&] { return py::object(Calls(Get(self))); });
}

PyObject* PyLoops(PyObject* self, PyObject*) {
  return Guard([&] { return py::object(Loops(Get(self))); });
}

template <class T, T (StreamParser::*Getter)() const>
PyObject* GetAttr(PyObject* self, void*) {
  return Guard([&] { return py::object(py::cast((Get(self).*Getter)())); });
}

int ParserInit(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"reasoning_budget", "start_in_reasoning",
                                 "tool_calls_in_reasoning", "budget_close_text", "keep_message",
                                 "tool_names", "id_factory", "max_json_depth", "vocab",
                                 "close_ids", "loop_guard", nullptr};
  long long budget;
  int start_in_reasoning, tool_calls_in_reasoning, keep_message;
  PyObject* close_text;
  PyObject* tool_names;
  PyObject* id_factory;
  Py_ssize_t max_depth;
  PyObject* vocab;
  PyObject* close_ids;
  PyObject* loop_guard = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "LppUpOOnOO|O:StreamParser",
                                   const_cast<char**>(kwlist), &budget, &start_in_reasoning,
                                   &tool_calls_in_reasoning, &close_text, &keep_message,
                                   &tool_names, &id_factory, &max_depth, &vocab, &close_ids,
                                   &loop_guard)) {
    return -1;
  }
  PyObject* ok = Guard([&] {
    ParserOptions o;
    o.reasoning_budget = budget;
    o.start_in_reasoning = start_in_reasoning != 0;
    o.tool_calls_in_reasoning = tool_calls_in_reasoning != 0;
    o.budget_close_text = py::cast<std::string>(close_text);
    o.keep_message = keep_message != 0;
    HERMES_CHECK_ARG(max_depth > 0, "max_json_depth must be >= 1");
    o.max_json_depth = static_cast<std::size_t>(max_depth);
    if (tool_names != Py_None) {
      o.has_tools = true;
      for (py::handle name : py::reinterpret_borrow<py::iterable>(tool_names)) {
        o.tool_names.push_back(py::cast<std::string>(name));
      }
    }
    if (id_factory != Py_None) {
      // Called with the GIL held (feed() never releases it).
      auto factory = py::reinterpret_borrow<py::object>(id_factory);
      o.id_factory = [factory](std::int64_t index) {
        py::gil_scoped_acquire gil;  // feed_many() parses with the GIL released
        py::object id = factory(index);
        if (!PyUnicode_Check(id.ptr())) {
          throw py::type_error(std::string("id_factory must return a str, got ") +
                               Py_TYPE(id.ptr())->tp_name);
        }
        return id.cast<std::string>();
      };
    }
    if (vocab != Py_None) {
      o.vocab = py::cast<std::shared_ptr<Vocab>>(vocab);
      o.close_ids = py::cast<std::vector<std::int64_t>>(close_ids);
    }
    ApplyLoopGuard(o, loop_guard);
    auto* obj = reinterpret_cast<ParserObject*>(self);
    auto fresh = std::make_unique<StreamParser>(std::move(o));
    delete obj->parser;
    obj->parser = fresh.release();
    return py::object(py::none());
  });
  if (ok == nullptr) return -1;
  Py_DECREF(ok);
  return 0;
}

PyObject* ParserNew(PyTypeObject* type, PyObject*, PyObject*) {
  PyObject* self = type->tp_alloc(type, 0);
  if (self != nullptr) {
    reinterpret_cast<ParserObject*>(self)->parser = nullptr;
    reinterpret_cast<ParserObject*>(self)->batch_epoch = 0;
  }
  return self;
}

void ParserDealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  delete reinterpret_cast<ParserObject*>(self)->parser;
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyMethodDef kParserMethods[] = {
    {"feed", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(PyFeed)),
     METH_FASTCALL | METH_KEYWORDS, "feed(text, n_tokens=1) -> Delta"},
    {"feed_bytes", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(PyFeedBytes)),
     METH_FASTCALL | METH_KEYWORDS,
     "feed_bytes(data, n_tokens=1) -> Delta (UTF-8 sequences may be split)"},
    {"feed_tokens", PyFeedTokens, METH_O,
     "feed_tokens(ids) -> Delta (an int or a sequence of ints; needs vocab=)"},
    {"finish", PyFinish, METH_NOARGS, "End of stream: flush held text; returns a Delta."},
    {"_feed_all_quiet", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(PyFeedAllQuiet)),
     METH_FASTCALL | METH_KEYWORDS, "Internal: feed everything and finish, building no Delta."},
    {"_segments", PySegments, METH_NOARGS, "Internal: [(kind, text)]"},
    {"_calls", PyCalls, METH_NOARGS, "Internal: [(index, id, name, arguments, error, raw, complete)]"},
    {"_loops", PyLoops, METH_NOARGS, "Internal: [LoopInfo] (the loop guard's detections)"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef kParserGetSet[] = {
    {"finished", GetAttr<bool, &StreamParser::finished>, nullptr, "finish() was called", nullptr},
    {"ended_by_eot", GetAttr<bool, &StreamParser::ended_by_eot>, nullptr,
     "an end-of-turn token ended the message", nullptr},
    {"reasoning_tokens", GetAttr<std::int64_t, &StreamParser::reasoning_tokens>, nullptr,
     "reasoning tokens counted so far", nullptr},
    {"budget_exceeded", GetAttr<bool, &StreamParser::budget_exceeded>, nullptr,
     "the reasoning budget forced a close", nullptr},
    {"loop_closed", GetAttr<bool, &StreamParser::loop_closed>, nullptr,
     "the loop guard forced a close", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot kParserSlots[] = {
    {Py_tp_doc, const_cast<char*>("Native streaming parser (use hermes_stream.StreamParser).")},
    {Py_tp_new, reinterpret_cast<void*>(ParserNew)},
    {Py_tp_init, reinterpret_cast<void*>(ParserInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(ParserDealloc)},
    {Py_tp_methods, kParserMethods},
    {Py_tp_getset, kParserGetSet},
    {0, nullptr},
};

PyType_Spec kParserSpec = {
    "hermes_stream._core.StreamParser",
    sizeof(ParserObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    kParserSlots,
};

// One engine step for many streams: `streams` maps stream id -> StreamParser, `items` is a
// sequence of (stream id, str | bytes | list[int]) pairs. Inputs are converted and checked with
// the GIL held; the parsing itself runs with the GIL released (after conversion nothing touches
// Python objects, except an id_factory, which re-acquires it); the Deltas are built afterwards.
// `items` (a list or tuple, held by the caller for the whole call) keeps every payload alive; the
// parsers are kept alive by the references taken here.
std::uint64_t g_batch_epoch = 0;

py::dict FeedMany(const py::dict& streams, const py::handle& items) {
  struct Work {
    ParserObject* obj;
    std::string_view text;
    std::vector<std::int64_t> ids;
    bool tokens;
    PyObject* sid;
    const DeltaOut* out;
  };
  if (!PyList_Check(items.ptr()) && !PyTuple_Check(items.ptr())) {
    throw py::type_error("feed_many() takes a list of (stream_id, delta) pairs");
  }
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(items.ptr());
  PyObject** entries = PySequence_Fast_ITEMS(items.ptr());
  std::vector<Work> work;
  work.reserve(static_cast<std::size_t>(n));
  std::vector<py::object> keep;  // converted payloads (lone surrogates) owned here
  struct Refs {  // strong references to the parsers for the whole call
    std::vector<PyObject*> objs;
    ~Refs() {
      for (PyObject* o : objs) Py_DECREF(o);
    }
  } refs;
  refs.objs.reserve(static_cast<std::size_t>(n));
  const std::uint64_t epoch = ++g_batch_epoch;
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* pair = entries[i];
    if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
      throw py::type_error("feed_many() items must be (stream_id, delta) tuples");
    }
    PyObject* sid = PyTuple_GET_ITEM(pair, 0);
    PyObject* payload = PyTuple_GET_ITEM(pair, 1);
    PyObject* found = PyDict_GetItemWithError(streams.ptr(), sid);
    if (found == nullptr) {
      if (PyErr_Occurred()) throw py::error_already_set();
      throw py::key_error("unknown stream id " + py::repr(sid).cast<std::string>() +
                          "; add() it first");
    }
    StreamParser& p = Get(found);
    auto* obj = reinterpret_cast<ParserObject*>(found);
    if (obj->batch_epoch == epoch) {
      throw py::value_error("stream id " + py::repr(sid).cast<std::string>() +
                            " appears twice in one feed_many() call");
    }
    Work w{obj, {}, {}, false, sid, nullptr};
    if (PyUnicode_Check(payload)) {
      Py_ssize_t size = 0;
      const char* data = PyUnicode_AsUTF8AndSize(payload, &size);
      if (data == nullptr) {  // lone surrogates: as feed() does
        PyErr_Clear();
        py::object raw = py::reinterpret_steal<py::object>(
            PyUnicode_AsEncodedString(payload, "utf-8", "surrogatepass"));
        if (!raw) throw py::error_already_set();
        data = PyBytes_AS_STRING(raw.ptr());
        size = PyBytes_GET_SIZE(raw.ptr());
        keep.push_back(std::move(raw));
      }
      w.text = std::string_view(data, static_cast<std::size_t>(size));
    } else if (PyBytes_Check(payload)) {
      w.text = std::string_view(PyBytes_AS_STRING(payload),
                                static_cast<std::size_t>(PyBytes_GET_SIZE(payload)));
    } else if (PyList_Check(payload) || PyTuple_Check(payload)) {
      const auto& vocab = p.options().vocab;
      if (!vocab) throw UsageError("token ids need a vocab: create the stream with vocab=...");
      w.tokens = true;
      const Py_ssize_t m = PySequence_Fast_GET_SIZE(payload);
      PyObject** xs = PySequence_Fast_ITEMS(payload);
      for (Py_ssize_t k = 0; k < m; ++k) {
        if (PyBool_Check(xs[k]) || !PyLong_Check(xs[k])) {
          throw py::type_error("token ids must be ints");
        }
        const long long id = PyLong_AsLongLong(xs[k]);
        if (id == -1 && PyErr_Occurred()) throw py::error_already_set();
        if (!vocab->Known(id)) throw py::value_error("unknown token id " + std::to_string(id));
        w.ids.push_back(id);
      }
    } else {
      throw py::type_error(std::string("feed_many() deltas must be str, bytes or a list of token "
                                       "ids, got ") + Py_TYPE(payload)->tp_name);
    }
    p.CheckLoopUnit(w.tokens);  // before any stream is fed: a mixed-unit guard raises here
    if (p.finished()) {
      throw UsageError("feed_many(): stream " + py::repr(sid).cast<std::string>() +
                       " is finished");
    }
    obj->batch_epoch = epoch;
    Py_INCREF(found);
    refs.objs.push_back(found);
    work.push_back(std::move(w));
  }
  {
    py::gil_scoped_release release;
    for (Work& w : work) {
      StreamParser* p = w.obj->parser;
      w.out = w.tokens ? &p->FeedTokens(w.ids.data(), w.ids.size()) : &p->Feed(w.text, 1);
    }
  }
  py::dict out;
  for (const Work& w : work) {
    // Each parser's DeltaOut is valid until its next call: nothing has touched it since.
    py::object d = ToDelta(*w.obj->parser, *w.out);
    if (PyDict_SetItem(out.ptr(), w.sid, d.ptr()) != 0) throw py::error_already_set();
  }
  return out;
}

}  // namespace

void RegisterStreamParser(py::module_& m) {
  m.def(
      "set_types",
      [](py::handle forced_close) { g_forced_close_cls = forced_close.inc_ref(); },
      py::arg("forced_close"),
      "Internal: hand over the Python value classes (called once).");
  m.def(
      "set_loop_type", [](py::handle loop_info) { g_loop_info_cls = loop_info.inc_ref(); },
      py::arg("loop_info"), "Internal: hand over the LoopInfo class (called once).");
  PyObject* type = PyType_FromSpec(&kParserSpec);
  if (type == nullptr) throw py::error_already_set();
  g_parser_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("StreamParser", py::reinterpret_steal<py::object>(type));
  m.def("feed_many", &FeedMany, py::arg("streams"), py::arg("items"),
        "Internal (BatchParser): feed many streams in one call, parsing with the GIL released.");
}

}  // namespace hermes_stream::py_glue
