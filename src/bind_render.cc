// Chat template binding: `_core.render_chat(...)` converts the Python messages and tools into the
// core's flat ChatRequest (with the GIL held), renders with the GIL released, and returns the
// prompt as a str.
//
// The conversion reads exactly what the Jinja template reads, the way transformers hands it over
// (None-valued message keys dropped, values reduced to plain JSON-like data), and walks tools and
// tool-call arguments through the core's JsonWriter (transformers' `tojson`). It handles the
// exact built-in types (dict, list, tuple, str, int, float, bool, None). Anything else it meets on
// the way (a dict subclass, an enum, a dataclass, a str with lone surrogates, a dict key that JSON
// rejects, nesting deeper than kMaxDepth) makes it return None: the Python facade then renders
// with the pure-Python reference renderer, which mirrors transformers' conversion exactly. So the
// common case is native and every input still renders exactly.
#include <Python.h>

#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <pybind11/pybind11.h>

#include "bindings.h"
#include "glue.h"
#include "hermes_stream/chat_template.h"
#include "hermes_stream/json_writer.h"

namespace py = pybind11;

namespace hermes_stream::py_glue {
namespace {

// hs.TemplateError, handed over once by the package (set_template_error()).
PyObject* g_template_error = nullptr;

// Interned dict keys (created once; never freed, like any module-level constant).
PyObject* g_role = nullptr;
PyObject* g_content = nullptr;
PyObject* g_tool_calls = nullptr;
PyObject* g_function = nullptr;
PyObject* g_name = nullptr;
PyObject* g_arguments = nullptr;

// Deeper structures go to the Python path (whose json.dumps has its own recursion limit).
constexpr int kMaxDepth = 128;

// Thrown inside the converter: this input needs the Python path.
struct NotNative {};

// A Python call failed while converting: the Python path reproduces (and reports) the failure.
[[noreturn]] void NotNativeAfterError() {
  PyErr_Clear();
  throw NotNative{};
}

// A dict whose keys are all exact strs: looking a key up in it runs no Python code (a key of any
// other type may have an `__eq__` that changes the caller's messages during the lookup). Other
// dicts go to the Python path.
void RequireStrKeys(PyObject* dict) {
  Py_ssize_t pos = 0;
  PyObject* k = nullptr;
  PyObject* v = nullptr;
  while (PyDict_Next(dict, &pos, &k, &v)) {
    if (!PyUnicode_CheckExact(k)) throw NotNative{};
  }
}

// Conversion runs with the cyclic GC paused: a finalizer it would run could change the caller's
// lists and dicts while borrowed references into them are in use. (Nothing else in the
// conversion runs Python code: exact built-in types only, str keys only.)
class GcPause {
 public:
  GcPause() : was_enabled_(PyGC_Disable()) {}
  ~GcPause() {
    if (was_enabled_) PyGC_Enable();
  }
  GcPause(const GcPause&) = delete;
  GcPause& operator=(const GcPause&) = delete;

 private:
  int was_enabled_;
};

// The UTF-8 bytes of a str: an ASCII str's own buffer directly, others via CPython's cached
// UTF-8 form. Null (with a Python error) for lone surrogates.
inline const char* Utf8(PyObject* s, Py_ssize_t* size) {
  if (PyUnicode_IS_COMPACT_ASCII(s)) {
    *size = PyUnicode_GET_LENGTH(s);
    return static_cast<const char*>(PyUnicode_DATA(s));
  }
  return PyUnicode_AsUTF8AndSize(s, size);
}

PyObject* Intern(const char* s) {
  PyObject* o = PyUnicode_InternFromString(s);
  if (o == nullptr) throw py::error_already_set();
  return o;
}

// Borrowed value of `key` in an exact dict with exact-str keys (RequireStrKeys), or nullptr when
// missing. The GIL is held and no Python code runs while the borrowed references are used.
PyObject* Get(PyObject* dict, PyObject* key) {
  PyObject* v = PyDict_GetItemWithError(dict, key);
  if (v == nullptr && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

bool IsScalar(PyObject* o) {
  return o == Py_None || PyUnicode_CheckExact(o) || PyLong_CheckExact(o) || PyBool_Check(o) ||
         PyFloat_CheckExact(o);
}

// True when `o` is plain data: what transformers' _plain_template_data leaves unchanged.
bool IsPlain(PyObject* o, int depth = 0) {
  if (IsScalar(o)) return true;
  if (depth > kMaxDepth) return false;
  if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
    PyObject** items = PySequence_Fast_ITEMS(o);
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (!IsPlain(items[i], depth + 1)) return false;
    }
    return true;
  }
  if (PyDict_CheckExact(o)) {
    Py_ssize_t pos = 0;
    PyObject* k = nullptr;
    PyObject* v = nullptr;
    while (PyDict_Next(o, &pos, &k, &v)) {
      if (!IsPlain(k, depth + 1) || !IsPlain(v, depth + 1)) return false;
    }
    return true;
  }
  return false;
}

// Conversion state. One per thread, reused across calls so that a render allocates nothing but
// its result once the buffers have grown (a nested call on the same thread, e.g. from a __del__
// run by the garbage collector during conversion, gets a fresh one).
class Converter {
 public:
  ChatRequest req;

  // Clears everything; drops the references (the GIL must be held).
  void Reset() {
    req.messages.clear();
    req.calls.clear();
    req.tools_json.clear();
    req.has_tools = false;
    json_.Clear();
    json_.Trim(std::size_t{1} << 22);  // keep at most 4 MiB between calls
    tool_spans_.clear();
    arg_spans_.clear();
    for (PyObject* o : refs_) Py_DECREF(o);
    refs_.clear();
  }

  // The UTF-8 view of a str we hold a reference to (so it outlives the GIL release).
  std::string_view View(PyObject* s, bool steal = false) {
    Py_ssize_t size = 0;
    const char* data = Utf8(s, &size);
    if (data == nullptr) {  // lone surrogates: the Python path keeps them as transformers does
      PyErr_Clear();
      if (steal) Py_DECREF(s);
      throw NotNative{};
    }
    if (!steal) Py_INCREF(s);
    refs_.push_back(s);
    return std::string_view(data, static_cast<std::size_t>(size));
  }

  // `value` as the template sees a message field: undefined, a str, or another plain value.
  ChatValue Value(PyObject* v) {
    ChatValue out;
    if (v == nullptr || v == Py_None) return out;  // transformers drops None-valued keys
    if (PyUnicode_CheckExact(v)) {
      out.kind = ValueKind::kString;
      out.text = View(v);
      out.truthy = !out.text.empty();
      return out;
    }
    if (!IsPlain(v)) throw NotNative{};
    out.kind = ValueKind::kOther;
    PyObject* s = PyObject_Str(v);            // what {{ value }} prints
    if (s == nullptr) NotNativeAfterError();  // e.g. an int over the str() digit limit
    out.text = View(s, /*steal=*/true);
    const int t = PyObject_IsTrue(v);
    if (t < 0) throw py::error_already_set();
    out.truthy = t != 0;
    out.type_name = Py_TYPE(v)->tp_name;
    return out;
  }

  // Message `msg` (an exact dict) into req.messages.
  void Message(PyObject* msg) {
    ChatMessage m;
    RequireStrKeys(msg);
    PyObject* role = Get(msg, g_role);
    if (role != nullptr && PyUnicode_CheckExact(role)) {
      Py_ssize_t n = 0;
      const char* r = Utf8(role, &n);
      if (r == nullptr) {
        PyErr_Clear();  // lone surrogates: not one of the four names
      } else {
        m.role = ChatRoleFromName(std::string_view(r, static_cast<std::size_t>(n)));
      }
    } else if (role != nullptr && PyUnicode_Check(role)) {
      throw NotNative{};  // a str subclass: compared after conversion to str
    }
    if (TemplateReadsContent(m.role)) m.content = Value(Get(msg, g_content));
    if (TemplateReadsToolCalls(m.role)) ToolCalls(Get(msg, g_tool_calls), &m);
    req.messages.push_back(m);
  }

  // `tool | tojson` for each tool (a list or tuple of exact dicts).
  void Tools(PyObject* tools) {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(tools);
    PyObject** items = PySequence_Fast_ITEMS(tools);
    req.has_tools = n > 0;
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (!PyDict_CheckExact(items[i])) throw NotNative{};
      const std::size_t begin = json_.BeginDocument();
      Json(items[i], 0);
      tool_spans_.push_back({begin, json_.size() - begin});
    }
  }

  // Points the request at the JSON texts (the writer no longer grows).
  void Finish() {
    for (const Span& s : tool_spans_) req.tools_json.push_back(JsonText(s));
    for (std::size_t i = 0; i < arg_spans_.size(); ++i) {
      req.calls[i].arguments = JsonText(arg_spans_[i]);
    }
  }

 private:
  struct Span {
    std::size_t begin;
    std::size_t size;
  };

  std::string_view JsonText(const Span& s) const { return json_.Text(s.begin, s.size); }

  // tojson: json.dumps(o, ensure_ascii=False), written by the core's JsonWriter.
  void Json(PyObject* o, int depth) {
    if (PyUnicode_CheckExact(o)) {
      json_.String(JsonStr(o));
    } else if (PyDict_CheckExact(o)) {
      if (depth > kMaxDepth) throw NotNative{};
      Py_ssize_t pos = 0;
      PyObject* k = nullptr;
      PyObject* v = nullptr;
      bool first = true;
      json_.BeginObject();
      while (PyDict_Next(o, &pos, &k, &v)) {
        if (!first) json_.Comma();
        first = false;
        Key(k);
        Json(v, depth + 1);
      }
      json_.EndObject();
    } else if (PyList_CheckExact(o) || PyTuple_CheckExact(o)) {
      if (depth > kMaxDepth) throw NotNative{};
      const Py_ssize_t n = PySequence_Fast_GET_SIZE(o);
      PyObject** items = PySequence_Fast_ITEMS(o);
      json_.BeginArray();
      for (Py_ssize_t i = 0; i < n; ++i) {
        if (i != 0) json_.Comma();
        Json(items[i], depth + 1);
      }
      json_.EndArray();
    } else if (o == Py_None) {
      json_.Null();
    } else if (o == Py_True || o == Py_False) {
      json_.Bool(o == Py_True);
    } else if (PyLong_CheckExact(o)) {
      Int(o, /*key=*/false);
    } else if (PyFloat_CheckExact(o)) {
      json_.Float(PyFloat_AS_DOUBLE(o));
    } else {
      throw NotNative{};  // the Python path converts it (or raises as transformers does)
    }
  }

  // The UTF-8 text of a str for the writer (not kept: the writer copies it).
  static std::string_view JsonStr(PyObject* o) {
    Py_ssize_t size = 0;
    const char* data = Utf8(o, &size);
    if (data == nullptr) NotNativeAfterError();  // lone surrogates
    return std::string_view(data, static_cast<std::size_t>(size));
  }

  // A dict key: json.dumps accepts str, float, bool, None and int keys; any other type raises.
  void Key(PyObject* k) {
    if (PyUnicode_CheckExact(k)) {
      json_.Key(JsonStr(k));
    } else if (PyFloat_CheckExact(k)) {
      json_.FloatKey(PyFloat_AS_DOUBLE(k));
    } else if (k == Py_True || k == Py_False) {
      json_.BoolKey(k == Py_True);
    } else if (k == Py_None) {
      json_.NullKey();
    } else if (PyLong_CheckExact(k)) {
      Int(k, /*key=*/true);
    } else {
      throw NotNative{};
    }
  }

  // An int as a value or a key: 64-bit ones directly, bigger ones as CPython's decimal digits.
  void Int(PyObject* o, bool key) {
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow == 0) {
      if (key) {
        json_.IntKey(v);
      } else {
        json_.Int(v);
      }
      return;
    }
    PyObject* s = PyObject_Repr(o);           // big int: CPython's own decimal conversion
    if (s == nullptr) NotNativeAfterError();  // over the int digit limit: json.dumps raises
    Py_ssize_t n = 0;
    const char* d = PyUnicode_AsUTF8AndSize(s, &n);
    if (d != nullptr) {
      const std::string_view digits(d, static_cast<std::size_t>(n));
      if (key) {
        json_.BigIntKey(digits);
      } else {
        json_.BigInt(digits);
      }
    }
    Py_DECREF(s);
    if (d == nullptr) NotNativeAfterError();
  }

  // `message.tool_calls` of an assistant message.
  void ToolCalls(PyObject* v, ChatMessage* m) {
    if (v == nullptr || v == Py_None) return;  // undefined: falsy
    if (!IsScalar(v) && !PyList_CheckExact(v) && !PyTuple_CheckExact(v) && !PyDict_CheckExact(v)) {
      throw NotNative{};
    }
    const int truthy = PyObject_IsTrue(v);
    if (truthy < 0) throw py::error_already_set();
    m->has_tool_calls = truthy != 0;
    if (!m->has_tool_calls) return;
    if (!PyList_CheckExact(v) && !PyTuple_CheckExact(v)) {
      m->tool_calls_error = {TemplateErrorCode::kToolCallsNotList, 0, Py_TYPE(v)->tp_name};
      return;
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
    PyObject** items = PySequence_Fast_ITEMS(v);
    m->calls_begin = static_cast<std::uint32_t>(req.calls.size());
    for (Py_ssize_t j = 0; j < n; ++j) {
      ChatMessage::ToolCallsError error = Call(items[j], static_cast<std::uint32_t>(j));
      if (error.code != TemplateErrorCode::kNone) {
        m->tool_calls_error = error;
        break;
      }
    }
    m->calls_count = static_cast<std::uint32_t>(req.calls.size()) - m->calls_begin;
  }

  // One tool call: `{% if tool_call.function is defined %}{% set tool_call = tool_call.function
  // %}`, then `tool_call.name` printed and `tool_call.arguments | tojson`. Returns why the
  // template raises (the type names are static: plain values are built-in types), or kNone after
  // appending the call.
  ChatMessage::ToolCallsError Call(PyObject* call, std::uint32_t j) {
    if (!PyDict_CheckExact(call)) {
      if (!IsPlain(call)) throw NotNative{};
      return {TemplateErrorCode::kToolCallNotObject, j, Py_TYPE(call)->tp_name};
    }
    RequireStrKeys(call);
    PyObject* target = call;
    PyObject* fn = Get(call, g_function);
    if (fn != nullptr) {  // `is defined`: even None
      target = fn;
      if (!PyDict_CheckExact(target)) {
        if (!IsPlain(target)) throw NotNative{};
        return {TemplateErrorCode::kToolCallFunctionNotObject, j, Py_TYPE(target)->tp_name};
      }
    }
    if (target != call) RequireStrKeys(target);
    PyObject* args = Get(target, g_arguments);
    if (args == nullptr) return {TemplateErrorCode::kToolCallWithoutArguments, j, {}};
    ChatToolCall c;
    PyObject* name = Get(target, g_name);
    if (name == nullptr) {
      c.name = std::string_view();  // undefined prints ""
    } else if (PyUnicode_CheckExact(name)) {
      c.name = View(name);
    } else {
      if (!IsPlain(name)) throw NotNative{};
      PyObject* s = PyObject_Str(name);  // {{ 7 }} -> "7", {{ None }} -> "None"
      if (s == nullptr) NotNativeAfterError();
      c.name = View(s, /*steal=*/true);
    }
    const std::size_t begin = json_.BeginDocument();
    Json(args, 0);
    arg_spans_.push_back({begin, json_.size() - begin});
    req.calls.push_back(c);
    return {};
  }

  JsonWriter json_;               // every tojson text, back to back
  std::vector<Span> tool_spans_;  // tools' texts in json_
  std::vector<Span> arg_spans_;   // req.calls[i].arguments in json_
  std::vector<PyObject*> refs_;   // strong references to every viewed str
};

// Hands out this thread's Converter (or a fresh one when it is already in use) and resets it
// when the call ends, with the GIL held.
class ConverterLease {
 public:
  ConverterLease() {
    if (busy_) {
      own_ = std::make_unique<Converter>();
      conv_ = own_.get();
    } else {
      busy_ = true;
      conv_ = &tls_;
    }
  }
  ~ConverterLease() {
    conv_->Reset();
    if (!own_) busy_ = false;
  }
  ConverterLease(const ConverterLease&) = delete;
  ConverterLease& operator=(const ConverterLease&) = delete;
  Converter& operator*() { return *conv_; }

 private:
  static thread_local Converter tls_;
  static thread_local bool busy_;
  std::unique_ptr<Converter> own_;
  Converter* conv_;
};

thread_local Converter ConverterLease::tls_;
thread_local bool ConverterLease::busy_ = false;

// render_chat(messages, tools, llama3, bos_token, thinking, keep_cots, add_generation_prompt,
//             append_thinking_to_system) -> str, or None when the input needs the Python path.
py::object RenderChatPy(py::handle messages, py::handle tools, bool llama3, py::handle bos_token,
                        bool thinking, bool keep_cots, bool add_generation_prompt,
                        bool append_thinking_to_system) {
  if (!PyList_CheckExact(messages.ptr()) && !PyTuple_CheckExact(messages.ptr())) return py::none();
  if (!tools.is_none() && !PyList_CheckExact(tools.ptr()) && !PyTuple_CheckExact(tools.ptr())) {
    return py::none();
  }
  // Our own tuples of the messages and tools: the caller's lists may change meanwhile.
  py::object own_msgs = py::reinterpret_steal<py::object>(PySequence_Tuple(messages.ptr()));
  if (!own_msgs) throw py::error_already_set();
  py::object own_tools = tools.is_none()
                             ? py::object(py::none())
                             : py::reinterpret_steal<py::object>(PySequence_Tuple(tools.ptr()));
  if (!own_tools) throw py::error_already_set();
  PyObject* msgs = own_msgs.ptr();
  PyObject* t = own_tools.ptr();
  ConverterLease lease;
  Converter& conv = *lease;
  ChatOptions opt;
  opt.format = llama3 ? ChatFormat::kLlama3 : ChatFormat::kChatML;
  opt.thinking = thinking;
  opt.keep_cots = keep_cots;
  opt.add_generation_prompt = add_generation_prompt;
  opt.append_thinking_to_system = append_thinking_to_system;
  try {
    GcPause no_gc;
    if (!bos_token.is_none()) {
      if (!PyUnicode_CheckExact(bos_token.ptr())) return py::none();
      opt.has_bos = true;
      opt.bos_token = conv.View(bos_token.ptr());
    }
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(msgs);
    PyObject** items = PySequence_Fast_ITEMS(msgs);
    for (Py_ssize_t i = 0; i < n; ++i) {
      if (!PyDict_CheckExact(items[i])) return py::none();  // converted (or rejected) in Python
      conv.Message(items[i]);
    }
    if (t != Py_None) conv.Tools(t);
  } catch (const NotNative&) {
    return py::none();
  }
  conv.Finish();

  // After conversion nothing touches a Python object: every string the request views belongs to
  // a str the converter holds a reference to, or to the converter itself, so other threads may
  // run (and even mutate the caller's lists and dicts) meanwhile.
  thread_local std::string out;
  std::string error;
  {
    py::gil_scoped_release release;
    try {
      RenderChat(conv.req, opt, &out);
    } catch (const TemplateError& e) {
      error = e.what();
    }
  }
  if (!error.empty()) {
    if (g_template_error == nullptr) {
      throw std::logic_error("hermes_stream._core.set_template_error() not called");
    }
    PyErr_SetString(g_template_error, error.c_str());
    throw py::error_already_set();
  }
  PyObject* s = PyUnicode_DecodeUTF8(out.data(), static_cast<Py_ssize_t>(out.size()), nullptr);
  if (out.capacity() > (std::size_t{1} << 22)) std::string().swap(out);  // don't pin > 4 MiB
  if (s == nullptr) throw py::error_already_set();  // cannot happen: all inputs are valid UTF-8
  return py::reinterpret_steal<py::object>(s);
}

// METH_FASTCALL entry point (pybind11's dispatcher would cost ~0.4 us of a ~5 us call).
PyObject* RenderChatFast(PyObject* /*self*/, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs != 8) {
    PyErr_Format(PyExc_TypeError, "render_chat() takes 8 positional arguments (%zd given)", nargs);
    return nullptr;
  }
  bool flags[5];
  for (int i = 0; i < 5; ++i) {
    const int v = PyObject_IsTrue(args[i == 0 ? 2 : 3 + i]);
    if (v < 0) return nullptr;
    flags[i] = v != 0;
  }
  try {
    return RenderChatPy(args[0], args[1], flags[0], args[3], flags[1], flags[2], flags[3], flags[4])
        .release()
        .ptr();
  } catch (...) {
    SetErrorFromCurrentException();
  }
  return nullptr;
}

PyMethodDef kRenderChatDef = {
    "render_chat", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(RenderChatFast)),
    METH_FASTCALL,
    "render_chat(messages, tools, llama3, bos_token, thinking, keep_cots, add_generation_prompt, "
    "append_thinking_to_system) -> str | None\n\nRender a Hermes 4 chat natively; None when the "
    "input needs the Python path (hermes_stream.reference.render)."};

}  // namespace

void RegisterRender(py::module_& m) {
  g_role = Intern(chat_keys::kRole);
  g_content = Intern(chat_keys::kContent);
  g_tool_calls = Intern(chat_keys::kToolCalls);
  g_function = Intern(chat_keys::kFunction);
  g_name = Intern(chat_keys::kName);
  g_arguments = Intern(chat_keys::kArguments);
  PyObject* fn = PyCFunction_NewEx(&kRenderChatDef, nullptr, m.attr("__name__").ptr());
  if (fn == nullptr) throw py::error_already_set();
  m.add_object("render_chat", py::reinterpret_steal<py::object>(fn));
  m.def(
      "set_template_error",
      [](py::handle cls) {
        if (!PyType_Check(cls.ptr()) ||
            !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(cls.ptr()),
                              reinterpret_cast<PyTypeObject*>(PyExc_ValueError))) {
          throw py::type_error("set_template_error() takes a ValueError subclass");
        }
        Py_XDECREF(g_template_error);
        g_template_error = cls.inc_ref().ptr();
      },
      py::arg("cls"));
}

}  // namespace hermes_stream::py_glue
