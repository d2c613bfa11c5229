#include "delta_type.h"

#include <structmember.h>

namespace hermes_stream::py_glue {
namespace {

// A GC type, because the constructor accepts any object as `forced` and in `tool_calls`, and a
// ForcedClose holds a mutable list (token_ids): a cycle through a Delta must be collectable.
// The parser's own Deltas are tracked only when they carry a ForcedClose: otherwise they hold
// exact strs and native ToolCallDeltas (atomic: no cycle can pass through them), which saves the
// tracking work on every delta.
struct DeltaObject {
  PyObject_HEAD
  PyObject* reasoning;
  PyObject* content;
  PyObject* calls;  // tuple, or NULL when there are none
  PyObject* forced;
};

PyTypeObject* g_delta_type = nullptr;  // owned by the module; never freed (types live forever)

int DeltaTraverse(PyObject* self, visitproc visit, void* arg) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(d->calls);
  Py_VISIT(d->forced);
  return 0;
}

// reasoning/content are exact strs (never in a cycle); forced goes back to None.
int DeltaClear(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  Py_CLEAR(d->calls);
  if (d->forced != Py_None) Py_SETREF(d->forced, Py_NewRef(Py_None));
  return 0;
}

void DeltaDealloc(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  Py_XDECREF(d->reasoning);
  Py_XDECREF(d->content);
  Py_XDECREF(d->calls);
  Py_XDECREF(d->forced);
  tp->tp_free(self);
  Py_DECREF(tp);
}

int DeltaBool(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  return PyUnicode_GET_LENGTH(d->reasoning) != 0 || PyUnicode_GET_LENGTH(d->content) != 0 ||
         d->calls != nullptr || d->forced != Py_None;
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
  return Py_BuildValue("O(OONO)", reinterpret_cast<PyObject*>(Py_TYPE(self)), d->reasoning,
                       d->content, calls, d->forced);
}

PyObject* DeltaNew(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"reasoning", "content", "tool_calls", "forced", nullptr};
  PyObject* reasoning = nullptr;
  PyObject* content = nullptr;
  PyObject* tool_calls = Py_None;
  PyObject* forced = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|UUOO:Delta", const_cast<char**>(kwlist),
                                   &reasoning, &content, &tool_calls, &forced)) {
    return nullptr;
  }
  PyObject* calls = nullptr;
  if (tool_calls != Py_None) {
    calls = PySequence_Tuple(tool_calls);
    if (calls == nullptr) return nullptr;
    if (PyTuple_GET_SIZE(calls) == 0) Py_CLEAR(calls);
  }
  auto* d = reinterpret_cast<DeltaObject*>(type->tp_alloc(type, 0));
  if (d == nullptr) {
    Py_XDECREF(calls);
    return nullptr;
  }
  // Exact strs (a str subclass could carry a reference back to the Delta).
  d->reasoning = reasoning ? PyUnicode_FromObject(reasoning) : PyUnicode_New(0, 0);
  d->content = content ? PyUnicode_FromObject(content) : PyUnicode_New(0, 0);
  d->calls = calls;
  d->forced = Py_NewRef(forced);
  if (d->reasoning == nullptr || d->content == nullptr) {
    Py_DECREF(d);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(d);
}

PyMemberDef kDeltaMembers[] = {
    {"reasoning", T_OBJECT_EX, offsetof(DeltaObject, reasoning), READONLY, "reasoning text"},
    {"content", T_OBJECT_EX, offsetof(DeltaObject, content), READONLY, "answer text"},
    {"forced", T_OBJECT_EX, offsetof(DeltaObject, forced), READONLY, "ForcedClose or None"},
    {nullptr, 0, 0, 0, nullptr},
};

PyMethodDef kDeltaMethods[] = {
    {"__reduce__", DeltaReduce, METH_NOARGS, "pickle/copy support"},
    {nullptr, nullptr, 0, nullptr},
};

PyGetSetDef kDeltaGetSet[] = {
    {"tool_calls", DeltaGetToolCalls, nullptr, "list[ToolCallDelta] (a new list per access)",
     nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot kDeltaSlots[] = {
    {Py_tp_doc, const_cast<char*>("What one feed() produced: reasoning, content, tool-call "
                                  "fragments and a forced close. bool(delta) is False when empty.")},
    {Py_tp_new, reinterpret_cast<void*>(DeltaNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(DeltaDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(DeltaTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(DeltaClear)},
    {Py_tp_members, kDeltaMembers},
    {Py_tp_methods, kDeltaMethods},
    {Py_tp_getset, kDeltaGetSet},
    {Py_nb_bool, reinterpret_cast<void*>(DeltaBool)},
    {0, nullptr},
};

PyType_Spec kDeltaSpec = {
    "hermes_stream._core.Delta",
    sizeof(DeltaObject),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    kDeltaSlots,
};

// ---------------------------------------------------------------------------- ToolCallDelta
// One streamed fragment of a call: (index: int, id: str|None, name: str|None, arguments: str).
// Also native for speed (a frozen dataclass costs ~1 us to build). Immutable and holding only an
// exact int, exact strs and None (subclass instances are converted), so it cannot be part of a
// reference cycle and is not a GC type.
struct CallDeltaObject {
  PyObject_HEAD
  PyObject* index;
  PyObject* id;
  PyObject* name;
  PyObject* arguments;
};

PyTypeObject* g_call_delta_type = nullptr;

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
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|OOU:ToolCallDelta",
                                   const_cast<char**>(kwlist), &PyLong_Type, &index, &id, &name,
                                   &arguments)) {
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
  c->name = name ? PyUnicode_DecodeUTF8(name->data(), static_cast<Py_ssize_t>(name->size()),
                                        nullptr)
                 : Py_NewRef(Py_None);
  c->arguments = PyUnicode_DecodeUTF8(arguments.data(),
                                      static_cast<Py_ssize_t>(arguments.size()), nullptr);
  if (c->index == nullptr || c->id == nullptr || c->name == nullptr || c->arguments == nullptr) {
    Py_DECREF(c);
    return nullptr;
  }
  return reinterpret_cast<PyObject*>(c);
}

PyObject* NewDelta(PyObject* reasoning, PyObject* content, PyObject* calls, PyObject* forced) {
  auto* d = PyObject_GC_New(DeltaObject, g_delta_type);
  if (d == nullptr) {
    Py_DECREF(reasoning);
    Py_DECREF(content);
    Py_XDECREF(calls);
    Py_DECREF(forced);
    return nullptr;
  }
  // PyObject_GC_New already took the reference a heap-type instance holds on its type.
  d->reasoning = reasoning;
  d->content = content;
  d->calls = calls;
  d->forced = forced;
  // Only a ForcedClose (its token_ids list) can lead back here: see DeltaObject.
  if (forced != Py_None) PyObject_GC_Track(d);
  return reinterpret_cast<PyObject*>(d);
}

}  // namespace hermes_stream::py_glue
