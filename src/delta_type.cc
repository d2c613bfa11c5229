#include "delta_type.h"

#include <structmember.h>

#include "glue.h"

namespace hermes_stream::py_glue {
namespace {

// Not a GC type (no GC header and no tracking work on the per-token path), so a Delta must never
// be part of a reference cycle: it holds only exact strs, a tuple of native ToolCallDeltas (exact
// int/str/None fields) and a private ForcedClose (an exact str and a private list of exact ints)
// that is never handed out: `forced` returns a copy on each access (as `tool_calls` returns a new
// list), and so does `loop` (a private LoopInfo of exact ints and a str); the constructor
// converts or rejects anything else. Nothing a caller can reach leads back to the Delta.
struct DeltaObject {
  PyObject_HEAD PyObject* reasoning;
  PyObject* content;
  PyObject* calls;  // tuple, or NULL when there are none
  PyObject* forced;
  PyObject* loop;  // LoopInfo or None (the loop guard); set by SetDeltaLoop()
};

// One streamed fragment of a call: (index: int, id: str|None, name: str|None, arguments: str).
// Also native for speed (a frozen dataclass costs ~1 us to build). Immutable and holding only an
// exact int, exact strs and None (subclass instances are converted), so it cannot be part of a
// reference cycle and is not a GC type.
struct CallDeltaObject {
  PyObject_HEAD PyObject* index;
  PyObject* id;
  PyObject* name;
  PyObject* arguments;
};

PyTypeObject* g_delta_type = nullptr;  // owned by the module; never freed (types live forever)

PyTypeObject* g_call_delta_type = nullptr;

// A private copy of a ForcedClose-like value: ForcedClose(exact str, None | new list of exact
// ints), or None. TypeError for anything else.
PyObject* CopyForced(PyObject* forced) {
  if (forced == Py_None) return Py_NewRef(Py_None);
  PyObject* cls = ForcedCloseClass();
  if (cls == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "hermes_stream._core.set_types() not called");
    return nullptr;
  }
  static const char* kBad =
      "Delta forced must be None or a ForcedClose(text: str, token_ids: list[int] | None)";
  PyObject* text = PyObject_GetAttrString(forced, "text");
  PyObject* ids = text == nullptr ? nullptr : PyObject_GetAttrString(forced, "token_ids");
  if (ids == nullptr || !PyUnicode_Check(text) ||
      (ids != Py_None && !PyList_Check(ids) && !PyTuple_Check(ids))) {
    Py_XDECREF(text);
    Py_XDECREF(ids);
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError, kBad);
    return nullptr;
  }
  PyObject* text_copy = PyUnicode_FromObject(text);
  PyObject* ids_copy = nullptr;
  if (ids == Py_None) {
    ids_copy = Py_NewRef(Py_None);
  } else {
    const Py_ssize_t n = PySequence_Fast_GET_SIZE(ids);
    ids_copy = PyList_New(n);
    for (Py_ssize_t i = 0; ids_copy != nullptr && i < n; ++i) {
      PyObject* x = PySequence_Fast_GET_ITEM(ids, i);  // no Python code runs in this loop
      if (PyBool_Check(x) || !PyLong_Check(x)) {
        Py_CLEAR(ids_copy);
        PyErr_SetString(PyExc_TypeError, kBad);
        break;
      }
      PyList_SET_ITEM(ids_copy, i, PyNumber_Index(x));  // an exact int (no Python code)
    }
  }
  Py_DECREF(text);
  Py_DECREF(ids);
  PyObject* out = nullptr;
  if (text_copy != nullptr && ids_copy != nullptr) {
    out = PyObject_CallFunctionObjArgs(cls, text_copy, ids_copy, nullptr);
  }
  Py_XDECREF(text_copy);
  Py_XDECREF(ids_copy);
  return out;
}

// A private copy of a LoopInfo-like value: LoopInfo(exact ints period, repeats, start, end,
// exact str unit), or None. TypeError for anything else.
PyObject* CopyLoop(PyObject* loop) {
  if (loop == Py_None) return Py_NewRef(Py_None);
  PyObject* cls = LoopInfoClass();
  if (cls == nullptr) {
    PyErr_SetString(PyExc_RuntimeError, "hermes_stream._core.set_loop_type() not called");
    return nullptr;
  }
  static const char* kNames[5] = {"period", "repeats", "start", "end", "unit"};
  PyObject* f[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
  bool ok = true;
  for (int i = 0; ok && i < 5; ++i) {
    PyObject* v = PyObject_GetAttrString(loop, kNames[i]);
    if (v == nullptr) {
      ok = false;
    } else if (i < 4) {
      ok = !PyBool_Check(v) && PyLong_Check(v);
      f[i] = ok ? PyNumber_Index(v) : nullptr;  // an exact int
      ok = ok && f[i] != nullptr;
    } else {
      ok = PyUnicode_Check(v);
      f[i] = ok ? PyUnicode_FromObject(v) : nullptr;  // an exact str
      ok = ok && f[i] != nullptr;
    }
    Py_XDECREF(v);
  }
  PyObject* out = nullptr;
  if (ok) {
    out = PyObject_CallFunctionObjArgs(cls, f[0], f[1], f[2], f[3], f[4], nullptr);
  } else {
    PyErr_Clear();
    PyErr_SetString(PyExc_TypeError,
                    "Delta loop must be None or a LoopInfo(period, repeats, start, end: int, "
                    "unit: str)");
  }
  for (PyObject* x : f) Py_XDECREF(x);
  return out;
}

// `tool_calls` as a tuple of native ToolCallDeltas (other ToolCallDelta-like objects converted),
// or NULL when empty. Returns false with a Python error set.
bool CopyCalls(PyObject* tool_calls, PyObject** out) {
  *out = nullptr;
  PyObject* items = PySequence_Tuple(tool_calls);
  if (items == nullptr) return false;
  const Py_ssize_t n = PyTuple_GET_SIZE(items);
  if (n == 0) {
    Py_DECREF(items);
    return true;
  }
  PyObject* calls = PyTuple_New(n);
  for (Py_ssize_t i = 0; calls != nullptr && i < n; ++i) {
    PyObject* c = PyTuple_GET_ITEM(items, i);
    PyObject* native = nullptr;
    if (Py_TYPE(c) == g_call_delta_type) {
      native = Py_NewRef(c);
    } else {
      PyObject* f[4] = {PyObject_GetAttrString(c, "index"), nullptr, nullptr, nullptr};
      if (f[0] != nullptr) f[1] = PyObject_GetAttrString(c, "id");
      if (f[1] != nullptr) f[2] = PyObject_GetAttrString(c, "name");
      if (f[2] != nullptr) f[3] = PyObject_GetAttrString(c, "arguments");
      if (f[3] == nullptr) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "Delta tool_calls items must be ToolCallDelta, got %s",
                     Py_TYPE(c)->tp_name);
      } else {
        native = PyObject_CallFunctionObjArgs(reinterpret_cast<PyObject*>(g_call_delta_type), f[0],
                                              f[1], f[2], f[3], nullptr);
      }
      for (PyObject* x : f) Py_XDECREF(x);
    }
    if (native == nullptr) {
      Py_CLEAR(calls);
      break;
    }
    PyTuple_SET_ITEM(calls, i, native);
  }
  Py_DECREF(items);
  *out = calls;
  return calls != nullptr;
}

PyObject* DeltaGetForced(PyObject* self, void*) {
  return CopyForced(reinterpret_cast<DeltaObject*>(self)->forced);
}

PyObject* DeltaGetLoop(PyObject* self, void*) {
  return CopyLoop(reinterpret_cast<DeltaObject*>(self)->loop);
}

void DeltaDealloc(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  PyTypeObject* tp = Py_TYPE(self);
  Py_XDECREF(d->reasoning);
  Py_XDECREF(d->content);
  Py_XDECREF(d->calls);
  Py_XDECREF(d->forced);
  Py_XDECREF(d->loop);
  tp->tp_free(self);
  Py_DECREF(tp);
}

int DeltaBool(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  return PyUnicode_GET_LENGTH(d->reasoning) != 0 || PyUnicode_GET_LENGTH(d->content) != 0 ||
         d->calls != nullptr || d->forced != Py_None || d->loop != Py_None;
}

// A new list each time, so callers may keep or change it without touching the Delta.
PyObject* DeltaGetToolCalls(PyObject* self, void*) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  return d->calls == nullptr ? PyList_New(0) : PySequence_List(d->calls);
}

// Pickle and copy: Delta(reasoning, content, tool_calls, forced), as the reference's Delta.
PyObject* DeltaReduce(PyObject* self, PyObject*) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  PyObject* calls = d->calls == nullptr ? PyList_New(0) : PySequence_List(d->calls);
  if (calls == nullptr) return nullptr;
  PyObject* forced = CopyForced(d->forced);  // never the private ones
  PyObject* loop = forced == nullptr ? nullptr : CopyLoop(d->loop);
  if (loop == nullptr) {
    Py_DECREF(calls);
    Py_XDECREF(forced);
    return nullptr;
  }
  return Py_BuildValue("O(OONNN)", reinterpret_cast<PyObject*>(Py_TYPE(self)), d->reasoning,
                       d->content, calls, forced, loop);
}

PyObject* DeltaNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"reasoning", "content", "tool_calls", "forced", "loop", nullptr};
  PyObject* reasoning = nullptr;
  PyObject* content = nullptr;
  PyObject* tool_calls = Py_None;
  PyObject* forced = Py_None;
  PyObject* loop = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|UUOOO:Delta", const_cast<char**>(kwlist),
                                   &reasoning, &content, &tool_calls, &forced, &loop)) {
    return nullptr;
  }
  PyObject* calls = nullptr;
  if (tool_calls != Py_None && !CopyCalls(tool_calls, &calls)) return nullptr;
  PyObject* forced_copy = CopyForced(forced);
  PyObject* loop_copy = forced_copy == nullptr ? nullptr : CopyLoop(loop);
  if (loop_copy == nullptr) {
    Py_XDECREF(calls);
    Py_XDECREF(forced_copy);
    return nullptr;
  }
  auto* d = reinterpret_cast<DeltaObject*>(type->tp_alloc(type, 0));
  if (d == nullptr) {
    Py_XDECREF(calls);
    Py_DECREF(forced_copy);
    Py_DECREF(loop_copy);
    return nullptr;
  }
  // Exact strs (a str subclass could carry a reference back to the Delta).
  d->reasoning = reasoning ? PyUnicode_FromObject(reasoning) : PyUnicode_New(0, 0);
  d->content = content ? PyUnicode_FromObject(content) : PyUnicode_New(0, 0);
  d->calls = calls;
  d->forced = forced_copy;
  d->loop = loop_copy;
  if (d->reasoning == nullptr || d->content == nullptr) {
    Py_DECREF(d);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(d);
}

// repr, ==, to_openai(): the same results as the reference Delta's Python methods
// (python/hermes_stream/_types.py: delta_repr, delta_eq, delta_to_openai), byte for byte.

// Delta(reasoning=..., content=..., tool_calls=[...], forced=...[, loop=...]).
PyObject* DeltaRepr(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  PyObject* calls = d->calls == nullptr ? PyList_New(0) : PySequence_List(d->calls);
  if (calls == nullptr) return nullptr;
  PyObject* out =
      d->loop == Py_None
          ? PyUnicode_FromFormat("Delta(reasoning=%R, content=%R, tool_calls=%R, forced=%R)",
                                 d->reasoning, d->content, calls, d->forced)
          : PyUnicode_FromFormat(
                "Delta(reasoning=%R, content=%R, tool_calls=%R, forced=%R, loop=%R)", d->reasoning,
                d->content, calls, d->forced, d->loop);
  Py_DECREF(calls);
  return out;
}

// `x == y` as a truth value: 1, 0, or -1 with a Python error set.
int Equal(PyObject* x, PyObject* y) {
  PyObject* r = PyObject_RichCompare(x, y, Py_EQ);
  if (r == nullptr) return -1;
  const int t = PyObject_IsTrue(r);
  Py_DECREF(r);
  return t;
}

// The other operand's fields (reasoning, content, tool_calls, forced, loop), as new references;
// returns 0 when one of the first four is missing (NotImplemented), -1 on another error.
int OtherFields(PyObject* other, PyObject* f[5]) {
  static const char* kNames[5] = {"reasoning", "content", "tool_calls", "forced", "loop"};
  for (int i = 0; i < 5; ++i) {
    f[i] = PyObject_GetAttrString(other, kNames[i]);
    if (f[i] != nullptr) continue;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError)) return -1;
    PyErr_Clear();
    if (i < 4) return 0;
    f[i] = Py_NewRef(Py_None);  // getattr(b, "loop", None)
  }
  return 1;
}

// Equal to any object with the four fields (e.g. the reference's Delta) when `loop` and every
// field compare equal, in delta_eq's order: loop first, then reasoning, content, tool_calls,
// forced.
PyObject* DeltaRichCompare(PyObject* self, PyObject* other, int op) {
  if ((op != Py_EQ && op != Py_NE) || Py_TYPE(self) != g_delta_type) Py_RETURN_NOTIMPLEMENTED;
  auto* a = reinterpret_cast<DeltaObject*>(self);
  int eq = 1;
  if (Py_TYPE(other) == g_delta_type) {  // both native: compare the slots (same values)
    auto* b = reinterpret_cast<DeltaObject*>(other);
    eq = Equal(a->loop, b->loop);
    if (eq == 1) eq = Equal(a->reasoning, b->reasoning);
    if (eq == 1) eq = Equal(a->content, b->content);
    if (eq == 1 && (a->calls != nullptr || b->calls != nullptr)) {
      eq = a->calls != nullptr && b->calls != nullptr ? Equal(a->calls, b->calls) : 0;
    }
    if (eq == 1) eq = Equal(a->forced, b->forced);
  } else {
    PyObject* f[5] = {nullptr, nullptr, nullptr, nullptr, nullptr};
    const int found = OtherFields(other, f);
    PyObject* calls = nullptr;
    if (found == 1) {
      eq = Equal(a->loop, f[4]);
      if (eq == 1) eq = Equal(a->reasoning, f[0]);
      if (eq == 1) eq = Equal(a->content, f[1]);
      if (eq == 1) {
        calls = a->calls == nullptr ? PyList_New(0) : PySequence_List(a->calls);
        eq = calls == nullptr ? -1 : Equal(calls, f[2]);
      }
      if (eq == 1) eq = Equal(a->forced, f[3]);
    }
    Py_XDECREF(calls);
    for (PyObject* x : f) Py_XDECREF(x);
    if (found == 0) Py_RETURN_NOTIMPLEMENTED;
    if (found < 0) return nullptr;
  }
  if (eq < 0) return nullptr;
  return PyBool_FromLong(op == Py_EQ ? eq : !eq);
}

// to_openai()'s keys and the "function" type value, made once (RegisterDelta).
enum OpenaiKey {
  kReasoningContent,
  kContent,
  kToolCalls,
  kIndex,
  kId,
  kType,
  kFunction,
  kName,
  kArguments,
  kNumKeys
};
const char* const kOpenaiKeyText[kNumKeys] = {
    "reasoning_content", "content", "tool_calls", "index", "id", "type",
    "function",          "name",    "arguments"};
PyObject* g_openai_key[kNumKeys] = {};

// d[key] = value (no reference stolen); 0, or -1 with a Python error set.
int SetItem(PyObject* d, OpenaiKey key, PyObject* value) {
  return PyDict_SetItem(d, g_openai_key[key], value);
}

// One entry of `tool_calls`: {"index", ["id", "type": "function"], ["function": {["name"],
// ["arguments"]}]}, keys only when present.
PyObject* CallToOpenai(PyObject* call) {
  auto* c = reinterpret_cast<CallDeltaObject*>(call);
  PyObject* entry = PyDict_New();
  if (entry == nullptr) return nullptr;
  int rc = SetItem(entry, kIndex, c->index);
  if (rc == 0 && c->id != Py_None) {
    rc = SetItem(entry, kId, c->id);
    if (rc == 0) rc = SetItem(entry, kType, g_openai_key[kFunction]);  // "type": "function"
  }
  const bool has_args = PyUnicode_GET_LENGTH(c->arguments) != 0;
  if (rc == 0 && (c->name != Py_None || has_args)) {
    PyObject* function = PyDict_New();
    rc = function == nullptr ? -1 : 0;
    if (rc == 0 && c->name != Py_None) rc = SetItem(function, kName, c->name);
    if (rc == 0 && has_args) rc = SetItem(function, kArguments, c->arguments);
    if (rc == 0) rc = SetItem(entry, kFunction, function);
    Py_XDECREF(function);
  }
  if (rc < 0) Py_CLEAR(entry);
  return entry;
}

// The `delta` object of an OpenAI chat-completion chunk; keys only when non-empty.
PyObject* DeltaToOpenai(PyObject* self, PyObject*) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  PyObject* out = PyDict_New();
  if (out == nullptr) return nullptr;
  int rc = 0;
  if (PyUnicode_GET_LENGTH(d->reasoning) != 0) {
    rc = SetItem(out, kReasoningContent, d->reasoning);
  }
  if (rc == 0 && PyUnicode_GET_LENGTH(d->content) != 0) rc = SetItem(out, kContent, d->content);
  if (rc == 0 && d->calls != nullptr) {
    const Py_ssize_t n = PyTuple_GET_SIZE(d->calls);
    PyObject* calls = PyList_New(n);
    rc = calls == nullptr ? -1 : 0;
    for (Py_ssize_t i = 0; rc == 0 && i < n; ++i) {
      PyObject* entry = CallToOpenai(PyTuple_GET_ITEM(d->calls, i));
      if (entry == nullptr) {
        rc = -1;
      } else {
        PyList_SET_ITEM(calls, i, entry);
      }
    }
    if (rc == 0) rc = SetItem(out, kToolCalls, calls);
    Py_XDECREF(calls);
  }
  if (rc < 0) Py_CLEAR(out);
  return out;
}

PyMemberDef kDeltaMembers[] = {
    {"reasoning", T_OBJECT_EX, offsetof(DeltaObject, reasoning), READONLY, "reasoning text"},
    {"content", T_OBJECT_EX, offsetof(DeltaObject, content), READONLY, "answer text"},
    {nullptr, 0, 0, 0, nullptr},
};

PyMethodDef kDeltaMethods[] = {
    {"__reduce__", DeltaReduce, METH_NOARGS, "pickle/copy support"},
    {"to_openai", DeltaToOpenai, METH_NOARGS,
     "The delta object of an OpenAI chat-completion chunk; keys only when non-empty."},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef kDeltaGetSet[] = {
    {"tool_calls", DeltaGetToolCalls, nullptr, "list[ToolCallDelta] (a new list per access)",
     nullptr},
    {"forced", DeltaGetForced, nullptr, "ForcedClose or None (a new copy per access)", nullptr},
    {"loop", DeltaGetLoop, nullptr,
     "LoopInfo when the loop guard's rule first held in this delta, else None (a new copy per "
     "access)",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot kDeltaSlots[] = {
    {Py_tp_doc,
     const_cast<char*>("What one feed() produced: reasoning, content, tool-call "
                       "fragments and a forced close. bool(delta) is False when empty.")},
    {Py_tp_new, reinterpret_cast<void*>(DeltaNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(DeltaDealloc)},
    {Py_tp_members, kDeltaMembers},
    {Py_tp_methods, kDeltaMethods},
    {Py_tp_getset, kDeltaGetSet},
    {Py_nb_bool, reinterpret_cast<void*>(DeltaBool)},
    {Py_tp_repr, reinterpret_cast<void*>(DeltaRepr)},
    {Py_tp_richcompare, reinterpret_cast<void*>(DeltaRichCompare)},
    {Py_tp_hash, reinterpret_cast<void*>(PyObject_HashNotImplemented)},
    {0, nullptr},
};

PyType_Spec kDeltaSpec = {
    "hermes_stream._core.Delta", sizeof(DeltaObject), 0, Py_TPFLAGS_DEFAULT, kDeltaSlots,
};

// ---------------------------------------------------------------------------- ToolCallDelta

void CallDeltaDealloc(PyObject* self) {
  auto* c = reinterpret_cast<CallDeltaObject*>(self);
  PyTypeObject* tp = Py_TYPE(self);
  Py_XDECREF(c->index);
  Py_XDECREF(c->id);
  Py_XDECREF(c->name);
  Py_XDECREF(c->arguments);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyObject* CallDeltaNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"index", "id", "name", "arguments", nullptr};
  PyObject* index = nullptr;
  PyObject* id = Py_None;
  PyObject* name = Py_None;
  PyObject* arguments = nullptr;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|OOU:ToolCallDelta", const_cast<char**>(kwlist),
                                   &PyLong_Type, &index, &id, &name, &arguments)) {
    return nullptr;
  }
  if ((id != Py_None && !PyUnicode_Check(id)) || (name != Py_None && !PyUnicode_Check(name))) {
    PyErr_SetString(PyExc_TypeError, "ToolCallDelta id and name must be str or None");
    return nullptr;
  }
  auto* c = reinterpret_cast<CallDeltaObject*>(type->tp_alloc(type, 0));
  if (c == nullptr) return nullptr;
  c->index = PyNumber_Index(index);  // an exact int
  c->id = id == Py_None ? Py_NewRef(id) : PyUnicode_FromObject(id);
  c->name = name == Py_None ? Py_NewRef(name) : PyUnicode_FromObject(name);
  c->arguments = arguments ? PyUnicode_FromObject(arguments) : PyUnicode_New(0, 0);
  if (c->index == nullptr || c->id == nullptr || c->name == nullptr || c->arguments == nullptr) {
    Py_DECREF(c);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(c);
}

// Equal to any object with equal index/id/name/arguments (e.g. the reference's dataclass).
PyObject* CallDeltaRichCompare(PyObject* a, PyObject* b, int op) {
  if (op != Py_EQ && op != Py_NE) Py_RETURN_NOTIMPLEMENTED;
  static const char* fields[] = {"index", "id", "name", "arguments"};
  for (const char* f : fields) {
    PyObject* x = PyObject_GetAttrString(a, f);
    if (x == nullptr) {
      PyErr_Clear();
      Py_RETURN_NOTIMPLEMENTED;
    }
    PyObject* y = PyObject_GetAttrString(b, f);
    if (y == nullptr) {
      PyErr_Clear();
      Py_DECREF(x);
      Py_RETURN_NOTIMPLEMENTED;
    }
    const int eq = PyObject_RichCompareBool(x, y, Py_EQ);
    Py_DECREF(x);
    Py_DECREF(y);
    if (eq < 0) return nullptr;
    if (eq == 0) return PyBool_FromLong(op == Py_NE);
  }
  return PyBool_FromLong(op == Py_EQ);
}

PyObject* CallDeltaReduce(PyObject* self, PyObject*) {
  auto* c = reinterpret_cast<CallDeltaObject*>(self);
  return Py_BuildValue("O(OOOO)", reinterpret_cast<PyObject*>(Py_TYPE(self)), c->index, c->id,
                       c->name, c->arguments);
}

PyMethodDef kCallDeltaMethods[] = {
    {"__reduce__", CallDeltaReduce, METH_NOARGS, "pickle/copy support"},
    {nullptr, nullptr, 0, nullptr},
};

PyObject* CallDeltaRepr(PyObject* self) {
  auto* c = reinterpret_cast<CallDeltaObject*>(self);
  return PyUnicode_FromFormat("ToolCallDelta(index=%R, id=%R, name=%R, arguments=%R)", c->index,
                              c->id, c->name, c->arguments);
}

PyMemberDef kCallDeltaMembers[] = {
    {"index", T_OBJECT_EX, offsetof(CallDeltaObject, index), READONLY, "call index"},
    {"id", T_OBJECT_EX, offsetof(CallDeltaObject, id), READONLY, "call id (first fragment)"},
    {"name", T_OBJECT_EX, offsetof(CallDeltaObject, name), READONLY, "name (first fragment)"},
    {"arguments", T_OBJECT_EX, offsetof(CallDeltaObject, arguments), READONLY,
     "argument text fragment"},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot kCallDeltaSlots[] = {
    {Py_tp_doc, const_cast<char*>("One streamed fragment of a tool call (OpenAI "
                                  "delta.tool_calls[i]): index, id, name, arguments.")},
    {Py_tp_new, reinterpret_cast<void*>(CallDeltaNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(CallDeltaDealloc)},
    {Py_tp_members, kCallDeltaMembers},
    {Py_tp_methods, kCallDeltaMethods},
    {Py_tp_richcompare, reinterpret_cast<void*>(CallDeltaRichCompare)},
    {Py_tp_repr, reinterpret_cast<void*>(CallDeltaRepr)},
    {Py_tp_hash, reinterpret_cast<void*>(PyObject_HashNotImplemented)},
    {0, nullptr},
};

PyType_Spec kCallDeltaSpec = {
    "hermes_stream._core.ToolCallDelta",
    sizeof(CallDeltaObject),
    0,
    Py_TPFLAGS_DEFAULT,
    kCallDeltaSlots,
};

}  // namespace

void RegisterDelta(pybind11::module_& m) {
  for (int i = 0; i < kNumKeys; ++i) {
    if (g_openai_key[i] == nullptr) g_openai_key[i] = PyUnicode_InternFromString(kOpenaiKeyText[i]);
    if (g_openai_key[i] == nullptr) throw pybind11::error_already_set();
  }
  PyObject* type = PyType_FromSpec(&kDeltaSpec);
  if (type == nullptr) throw pybind11::error_already_set();
  g_delta_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("Delta", pybind11::reinterpret_steal<pybind11::object>(Py_NewRef(type)));
  PyObject* calls = PyType_FromSpec(&kCallDeltaSpec);
  if (calls == nullptr) throw pybind11::error_already_set();
  g_call_delta_type = reinterpret_cast<PyTypeObject*>(calls);
  m.add_object("ToolCallDelta", pybind11::reinterpret_steal<pybind11::object>(Py_NewRef(calls)));
}

PyObject* NewCallDelta(std::int64_t index, const std::string* id, const std::string* name,
                       const std::string& arguments) {
  auto* c = PyObject_New(CallDeltaObject, g_call_delta_type);
  if (c == nullptr) return nullptr;
  c->index = PyLong_FromLongLong(index);
  c->id = id ? PyUnicode_DecodeUTF8(id->data(), static_cast<Py_ssize_t>(id->size()), nullptr)
             : Py_NewRef(Py_None);
  c->name = name
                ? PyUnicode_DecodeUTF8(name->data(), static_cast<Py_ssize_t>(name->size()), nullptr)
                : Py_NewRef(Py_None);
  c->arguments =
      PyUnicode_DecodeUTF8(arguments.data(), static_cast<Py_ssize_t>(arguments.size()), nullptr);
  if (c->index == nullptr || c->id == nullptr || c->name == nullptr || c->arguments == nullptr) {
    Py_DECREF(c);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(c);
}

PyObject* NewDelta(PyObject* reasoning, PyObject* content, PyObject* calls, PyObject* forced) {
  auto* d = PyObject_New(DeltaObject, g_delta_type);
  if (d == nullptr) {
    Py_DECREF(reasoning);
    Py_DECREF(content);
    Py_XDECREF(calls);
    Py_DECREF(forced);
    return nullptr;
  }
  // PyObject_New already took the reference a heap-type instance holds on its type.
  d->reasoning = reasoning;
  d->content = content;
  d->calls = calls;
  d->forced = forced;
  d->loop = Py_NewRef(Py_None);
  return reinterpret_cast<PyObject*>(d);
}

void SetDeltaLoop(PyObject* delta, PyObject* loop) {
  auto* d = reinterpret_cast<DeltaObject*>(delta);
  Py_SETREF(d->loop, loop);
}

}  // namespace hermes_stream::py_glue
