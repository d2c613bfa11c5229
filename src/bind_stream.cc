// StreamParser binding. feed() keeps the GIL: the work per delta is well under a microsecond,
// less than releasing and re-acquiring the GIL would cost (see STYLE.md practice 5).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "delta_type.h"
#include "hermes_stream/stream_parser.h"

namespace py = pybind11;

namespace hermes_stream::py_glue {
namespace {

// Python classes from hermes_stream._types, handed over once by the package (set_types()).
py::handle g_forced_close_cls;
py::handle g_tool_call_delta_cls;

inline PyObject* Str(const std::string& s) {
  // The core only ever emits valid UTF-8, so strict decoding cannot fail.
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), nullptr);
  if (o == nullptr) throw py::error_already_set();
  return o;
}

std::int64_t TokenCount(py::handle n) {
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
    py::object fc = g_forced_close_cls(py::str(out.forced_text), ids);
    forced = fc.release().ptr();
  } else {
    Py_INCREF(forced);
  }
  PyObject* calls = PyList_New(static_cast<Py_ssize_t>(out.ncalls));
  if (calls == nullptr) {
    Py_DECREF(forced);
    throw py::error_already_set();
  }
  for (std::size_t i = 0; i < out.ncalls; ++i) {
    const CallFragment& f = out.calls[i];
    py::object frag;
    try {
      frag = g_tool_call_delta_cls(f.index, f.first ? py::object(py::str(f.id)) : py::none(),
                                   f.first ? py::object(py::str(f.name)) : py::none(),
                                   py::str(f.arguments));
    } catch (...) {
      Py_DECREF(forced);
      Py_DECREF(calls);
      throw;
    }
    PyList_SET_ITEM(calls, static_cast<Py_ssize_t>(i), frag.release().ptr());
  }
  PyObject* reasoning = Str(out.reasoning);
  PyObject* content = Str(out.content);
  return py::reinterpret_steal<py::object>(NewDelta(reasoning, content, calls, forced));
}

py::object ToDelta(const StreamParser& p, const DeltaOut& out) {
  return ToDelta(out, static_cast<bool>(p.options().vocab));
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

}  // namespace

void RegisterStreamParser(py::module_& m) {
  m.def(
      "set_types",
      [](py::handle forced_close, py::handle tool_call_delta) {
        g_forced_close_cls = forced_close.inc_ref();
        g_tool_call_delta_cls = tool_call_delta.inc_ref();
      },
      py::arg("forced_close"), py::arg("tool_call_delta"),
      "Internal: hand over the Python value classes (called once).");

  py::class_<StreamParser>(m, "StreamParser", py::dynamic_attr())
      .def(py::init([](std::int64_t budget, bool start_in_reasoning, bool tool_calls_in_reasoning,
                       std::string close_text, bool keep_message, py::object tool_names,
                       py::object id_factory, std::size_t max_json_depth, py::object vocab,
                       std::vector<std::int64_t> close_ids) {
             ParserOptions o;
             o.reasoning_budget = budget;
             o.start_in_reasoning = start_in_reasoning;
             o.tool_calls_in_reasoning = tool_calls_in_reasoning;
             o.budget_close_text = std::move(close_text);
             o.keep_message = keep_message;
             o.max_json_depth = max_json_depth;
             if (!tool_names.is_none()) {
               o.has_tools = true;
               for (py::handle name : tool_names) o.tool_names.push_back(py::cast<std::string>(name));
             }
             if (!id_factory.is_none()) {
               // Called with the GIL held (feed() never releases it).
               o.id_factory = [id_factory](std::int64_t index) {
                 py::object id = id_factory(index);
                 if (!PyUnicode_Check(id.ptr())) {
                   throw py::type_error(std::string("id_factory must return a str, got ") +
                                        Py_TYPE(id.ptr())->tp_name);
                 }
                 return id.cast<std::string>();
               };
             }
             if (!vocab.is_none()) {
               o.vocab = vocab.cast<std::shared_ptr<Vocab>>();
               o.close_ids = std::move(close_ids);
             }
             return StreamParser(std::move(o));
           }),
           py::arg("reasoning_budget"), py::arg("start_in_reasoning"),
           py::arg("tool_calls_in_reasoning"), py::arg("budget_close_text"),
           py::arg("keep_message"), py::arg("tool_names"), py::arg("id_factory"),
           py::arg("max_json_depth"), py::arg("vocab"), py::arg("close_ids"))
      .def("feed", &FeedStr, py::arg("text"), py::arg("n_tokens") = 1,
           "Feed a text delta; returns a Delta.")
      .def("feed_bytes", &FeedBytes, py::arg("data"), py::arg("n_tokens") = 1,
           "Feed raw bytes (UTF-8 sequences may be split); returns a Delta.")
      .def("feed_tokens", &FeedTokens, py::arg("ids"),
           "Feed token ids (an int or a sequence of ints; needs vocab=); returns a Delta.")
      .def("finish", [](StreamParser& p) { return ToDelta(p, p.Finish()); },
           "End of stream: flush held text into the current region; returns a Delta.")
      .def_property_readonly("finished", &StreamParser::finished)
      .def_property_readonly("ended_by_eot", &StreamParser::ended_by_eot)
      .def_property_readonly("reasoning_tokens", &StreamParser::reasoning_tokens)
      .def_property_readonly("budget_exceeded", &StreamParser::budget_exceeded)
      .def("_segments", &Segments)
      .def("_calls", [](const StreamParser& p) {
        py::list out;
        for (const CallRecord& c : p.calls()) {
          out.append(py::make_tuple(c.index, c.id, c.name, c.arguments,
                                    c.has_error ? py::object(py::str(c.error)) : py::none(),
                                    c.raw, c.complete));
        }
        return out;
      })
      .def("_joined", [](const StreamParser& p, bool reasoning) {
        return p.JoinedText(reasoning ? SegmentKind::kReasoning : SegmentKind::kContent);
      });
}

}  // namespace hermes_stream::py_glue
