// StreamParser binding: a raw CPython type (not a pybind11 class) so that feed() is one
// METH_FASTCALL call with no dispatcher and no type-info lookup of `self` (a Python subclass).
// pybind11 is still used off the hot path (construction, message building, errors).
// feed() keeps the GIL: the work per delta is well under a microsecond, less than releasing and
// re-acquiring the GIL would cost (STYLE.md practice 5).
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "delta_type.h"
#include "glue.h"
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
  auto t = py::cast<
      std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, bool>>(
      py::handle(arg));
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
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(n.ptr(), &overflow);
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow > 0) {
    throw py::value_error("n_tokens must be < 2**63, got " + py::repr(n).cast<std::string>());
  }
  if (overflow < 0 || v < 0) {
    throw py::value_error("n_tokens must be >= 0, got " + py::repr(n).cast<std::string>());
  }
  return v;
}

// reasoning_tokens saturates at 2**63 - 1 (as in the reference): `n` is cut to what fits.
std::int64_t Saturate(const StreamParser& p, std::int64_t n) {
  const std::int64_t room = std::numeric_limits<std::int64_t>::max() - p.reasoning_tokens();
  return n < room ? n : room;
}

}  // namespace

PyObject* ForcedCloseClass() { return g_forced_close_cls.ptr(); }
PyObject* LoopInfoClass() { return g_loop_info_cls.ptr(); }

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
      PyObject* frag = NewCallDelta(f.index, f.first ? &f.id : nullptr, f.first ? &f.name : nullptr,
                                    f.arguments);
      if (frag == nullptr) {
        Py_DECREF(forced);
        Py_DECREF(calls);
        throw py::error_already_set();
      }
      PyTuple_SET_ITEM(calls, static_cast<Py_ssize_t>(i), frag);
    }
  }
  PyObject* reasoning =
      PyUnicode_DecodeUTF8(out.reasoning.data(), static_cast<Py_ssize_t>(out.reasoning.size()),
                           nullptr);
  PyObject* content =
      reasoning == nullptr
          ? nullptr
          : PyUnicode_DecodeUTF8(out.content.data(), static_cast<Py_ssize_t>(out.content.size()),
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
  py::object d = py_glue::ToDelta(out, static_cast<bool>(p.options().vocab));
  AttachLoop(d.ptr(), p, out);
  return d;
}

namespace {

// Token ids of one feed_tokens() call. Per call (not per thread): a generator may call
// feed_tokens() on another parser while this one is being filled, and an id_factory may do so
// while the core reads it.
class IdBuffer {
 public:
  void push_back(std::int64_t v) {
    if (n_ < kInline) {
      inline_[n_++] = v;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_, inline_ + kInline);
    heap_.push_back(v);
    ++n_;
  }
  const std::int64_t* data() const { return heap_.empty() ? inline_ : heap_.data(); }
  std::size_t size() const { return n_; }

 private:
  static constexpr std::size_t kInline = 64;
  std::int64_t inline_[kInline];
  std::vector<std::int64_t> heap_;
  std::size_t n_ = 0;
};

py::object FeedTokens(StreamParser& p, py::handle ids) {
  PyObject* o = ids.ptr();
  IdBuffer buf;
  if (PyLong_Check(o) && !PyBool_Check(o)) {
    buf.push_back(TokenId(o));
  } else if (PyList_Check(o) || PyTuple_Check(o)) {
    // No Python code runs while the items are read (exact reads of ints).
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    PyObject** items = PySequence_Fast_ITEMS(o);
    for (Py_ssize_t i = 0; i < n; ++i) buf.push_back(TokenId(items[i]));
  } else if (PyUnicode_Check(o) || PyBytes_Check(o)) {
    throw py::type_error(std::string("feed_tokens() takes token ids, got ") + Py_TYPE(o)->tp_name);
  } else {
    py::iterator it = py::iter(ids);  // TypeError for non-iterables
    for (py::handle x : it) buf.push_back(TokenId(x.ptr()));
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
  // The view is the str's own cached UTF-8 (the caller holds `text` for the whole call).
  py::object keep;
  const std::string_view data = Utf8Lossless(o, &keep);
  return ToDelta(p, p.Feed(data, Saturate(p, n)));
}

// bytes, bytearray or memoryview (any layout), as the reference's bytes(data). Anything but bytes
// is copied first, so an id_factory may resize the caller's bytearray meanwhile.
py::object FeedBytes(StreamParser& p, py::handle data, py::handle n_tokens) {
  PyObject* o = data.ptr();
  if (!PyBytes_Check(o) && !PyByteArray_Check(o) && !PyMemoryView_Check(o)) {
    throw py::type_error(std::string("feed_bytes() takes bytes, bytearray or memoryview, got ") +
                         Py_TYPE(o)->tp_name);
  }
  std::int64_t n = TokenCount(n_tokens);
  py::object copy;
  if (!PyBytes_Check(o)) {
    copy = py::reinterpret_steal<py::object>(PyBytes_FromObject(o));
    if (!copy) throw py::error_already_set();
    o = copy.ptr();
  }
  return ToDelta(p, p.Feed(std::string_view(PyBytes_AS_STRING(o),
                                            static_cast<std::size_t>(PyBytes_GET_SIZE(o))),
                           Saturate(p, n)));
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

// Tag of a single-parser call (feed_many() uses its own address, to spot duplicates).
const char kSingleCall = 0;

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
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);
    return FeedStr(lease.parser(), text, n == nullptr ? py::handle() : n);
  });
}

PyObject* PyFeedBytes(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* data;
  PyObject* n;
  if (!TwoArgs("feed_bytes", "data", args, nargs, kwnames, &data, &n)) return nullptr;
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);
    return FeedBytes(lease.parser(), data, n == nullptr ? py::handle() : n);
  });
}

PyObject* PyFeedTokens(PyObject* self, PyObject* ids) {
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);
    return FeedTokens(lease.parser(), ids);
  });
}

PyObject* PyFinish(PyObject* self, PyObject*) {
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);
    StreamParser& p = lease.parser();
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
    ParserLease lease(self, &kSingleCall);
    StreamParser& p = lease.parser();
    if (PyUnicode_Check(text)) {
      const std::int64_t count = TokenCount(n == nullptr ? py::handle() : n);
      py::object keep;
      p.Feed(Utf8Lossless(text, &keep), Saturate(p, count));
    } else {
      FeedBytes(p, text, n == nullptr ? py::handle() : n);
    }
    p.Finish();
    return py::object(py::none());
  });
}

PyObject* PySegments(PyObject* self, PyObject*) {
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);  // building the strs may run a __del__
    return py::object(Segments(lease.parser()));
  });
}

PyObject* PyCalls(PyObject* self, PyObject*) {
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);
    return py::object(Calls(lease.parser()));
  });
}

PyObject* PyLoops(PyObject* self, PyObject*) {
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);  // building the LoopInfos runs Python code
    return py::object(Loops(lease.parser()));
  });
}

template <class T, T (StreamParser::*Getter)() const>
PyObject* GetAttr(PyObject* self, void*) {
  return Guard([&] {
    ParserLease lease(self, &kSingleCall);
    return py::object(py::cast((lease.parser().*Getter)()));
  });
}

int ParserInit(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {
      "reasoning_budget",  "start_in_reasoning", "tool_calls_in_reasoning",
      "budget_close_text", "keep_message",       "tool_names",
      "id_factory",        "max_json_depth",     "vocab",
      "close_ids",         "loop_guard",         nullptr};
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
  auto* obj = reinterpret_cast<ParserObject*>(self);
  // Re-initialising a parser that a call is using would free the state under that call. The
  // parser stays marked for the whole __init__ (which runs Python code: tool_names, vocab).
  if (obj->owner != nullptr) {
    PyErr_SetString(PyExc_RuntimeError,
                    "StreamParser.__init__() called while the parser is in use (from its "
                    "id_factory, or from another thread); create a new StreamParser instead");
    return -1;
  }
  static const char kInitCall = 0;
  obj->owner = &kInitCall;
  PyObject* ok = Guard([&] {
    ParserOptions o;
    o.reasoning_budget = budget;
    o.start_in_reasoning = start_in_reasoning != 0;
    o.tool_calls_in_reasoning = tool_calls_in_reasoning != 0;
    o.budget_close_text = Utf8Strict(close_text, "budget_close_text");
    o.keep_message = keep_message != 0;
    HERMES_CHECK_ARG(max_depth > 0, "max_json_depth must be >= 1");
    o.max_json_depth = static_cast<std::size_t>(max_depth);
    if (tool_names != Py_None) {
      o.has_tools = true;
      for (py::handle name : py::reinterpret_borrow<py::iterable>(tool_names)) {
        o.tool_names.push_back(Utf8Strict(name.ptr(), "a tool name"));
      }
    }
    if (id_factory != Py_None) {
      // `factory` is owned by the parser object (obj->id_factory, visible to the GC), which
      // outlives its StreamParser.
      PyObject* factory = id_factory;
      o.id_factory = [factory](std::int64_t index) {
        py::gil_scoped_acquire gil;  // feed_many() parses with the GIL released
        py::object id = py::handle(factory)(index);
        if (!PyUnicode_Check(id.ptr())) {
          throw py::type_error(std::string("id_factory must return a str, got ") +
                               Py_TYPE(id.ptr())->tp_name);
        }
        Py_ssize_t size = 0;
        const char* data = PyUnicode_AsUTF8AndSize(id.ptr(), &size);
        if (data == nullptr) {
          PyErr_Clear();
          throw py::value_error(
              "id_factory returned a str that is not valid UTF-8: it contains a lone surrogate");
        }
        return std::string(data, static_cast<std::size_t>(size));
      };
    }
    if (vocab != Py_None) {
      o.vocab = py::cast<std::shared_ptr<Vocab>>(vocab);
      o.close_ids = py::cast<std::vector<std::int64_t>>(close_ids);
    }
    ApplyLoopGuard(o, loop_guard);
    auto fresh = std::make_unique<StreamParser>(std::move(o));
    StreamParser* old_parser = obj->parser;
    PyObject* old_factory = obj->id_factory;
    obj->parser = fresh.release();
    obj->id_factory = id_factory == Py_None ? nullptr : Py_NewRef(id_factory);
    delete old_parser;
    Py_XDECREF(old_factory);  // may run Python code: the object is consistent by now
    return py::object(py::none());
  });
  obj->owner = nullptr;
  if (ok == nullptr) return -1;
  Py_DECREF(ok);
  return 0;
}

PyObject* ParserNew(PyTypeObject* type, PyObject*, PyObject*) {
  PyObject* self = type->tp_alloc(type, 0);  // zero-filled: no parser, no factory, no owner
  return self;
}

// The GC sees the edge to the id_factory (e.g. a bound method of an object owning the parser).
int ParserTraverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(reinterpret_cast<ParserObject*>(self)->id_factory);
  return 0;
}

int ParserClear(PyObject* self) {
  auto* obj = reinterpret_cast<ParserObject*>(self);
  if (obj->owner != nullptr) return 0;  // a running call holds a reference: not garbage
  StreamParser* p = obj->parser;
  obj->parser = nullptr;  // a later call raises "__init__() was not called"
  delete p;
  Py_CLEAR(obj->id_factory);
  return 0;
}

void ParserDealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  auto* obj = reinterpret_cast<ParserObject*>(self);
  delete obj->parser;
  obj->parser = nullptr;
  Py_CLEAR(obj->id_factory);
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
    {"_calls", PyCalls, METH_NOARGS,
     "Internal: [(index, id, name, arguments, error, raw, complete)]"},
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
    {Py_tp_doc, const_cast<char*>("Native streaming parser (hermes_stream.StreamParser, the "
                                  "facade, subclasses it).")},
    {Py_tp_new, reinterpret_cast<void*>(ParserNew)},
    {Py_tp_init, reinterpret_cast<void*>(ParserInit)},
    {Py_tp_dealloc, reinterpret_cast<void*>(ParserDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(ParserTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(ParserClear)},
    {Py_tp_methods, kParserMethods},
    {Py_tp_getset, kParserGetSet},
    {0, nullptr},
};

PyType_Spec kParserSpec = {
    "hermes_stream._core.NativeStreamParser",
    sizeof(ParserObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    kParserSlots,
};

}  // namespace

void RegisterStreamParser(py::module_& m) {
  m.def(
      "set_types", [](py::handle forced_close) { g_forced_close_cls = forced_close.inc_ref(); },
      py::arg("forced_close"), "Internal: hand over the Python value classes (called once).");
  m.def(
      "set_loop_type", [](py::handle loop_info) { g_loop_info_cls = loop_info.inc_ref(); },
      py::arg("loop_info"), "Internal: hand over the LoopInfo class (called once).");
  PyObject* type = PyType_FromSpec(&kParserSpec);
  if (type == nullptr) throw py::error_already_set();
  g_parser_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("NativeStreamParser", py::reinterpret_steal<py::object>(type));
}

}  // namespace hermes_stream::py_glue
