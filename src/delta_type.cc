#include "delta_type.h"

#include <structmember.h>

namespace hermes_stream::py_glue {
namespace {

// Holds only immutable objects (two str, a tuple of frozen ToolCallDelta or NULL, a frozen
// ForcedClose or None), so it cannot be part of a reference cycle and is not GC-tracked: that
// saves the GC header and the tracking work on every delta.
struct DeltaObject {
  PyObject_HEAD
  PyObject* reasoning;
  PyObject* content;
  PyObject* calls;  // tuple, or NULL when there are none
  PyObject* forced;
};

PyTypeObject* g_delta_type = nullptr;  // owned by the module; never freed (types live forever)

void DeltaDealloc(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  PyTypeObject* tp = Py_TYPE(self);
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
  d->reasoning = reasoning ? Py_NewRef(reasoning) : PyUnicode_New(0, 0);
  d->content = content ? Py_NewRef(content) : PyUnicode_New(0, 0);
  d->calls = calls;
  d->forced = Py_NewRef(forced);
  return reinterpret_cast<PyObject*>(d);
}

PyMemberDef kDeltaMembers[] = {
    {"reasoning", T_OBJECT_EX, offsetof(DeltaObject, reasoning), READONLY, "reasoning text"},
    {"content", T_OBJECT_EX, offsetof(DeltaObject, content), READONLY, "answer text"},
    {"forced", T_OBJECT_EX, offsetof(DeltaObject, forced), READONLY, "ForcedClose or None"},
    {nullptr, 0, 0, 0, nullptr},
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
    {Py_tp_members, kDeltaMembers},
    {Py_tp_getset, kDeltaGetSet},
    {Py_nb_bool, reinterpret_cast<void*>(DeltaBool)},
    {0, nullptr},
};

PyType_Spec kDeltaSpec = {
    "hermes_stream._core.Delta",
    sizeof(DeltaObject),
    0,
    Py_TPFLAGS_DEFAULT,
    kDeltaSlots,
};

}  // namespace

void RegisterDelta(pybind11::module_& m) {
  PyObject* type = PyType_FromSpec(&kDeltaSpec);
  if (type == nullptr) throw pybind11::error_already_set();
  g_delta_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("Delta", pybind11::reinterpret_steal<pybind11::object>(Py_NewRef(type)));
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
  return reinterpret_cast<PyObject*>(d);
}

}  // namespace hermes_stream::py_glue
