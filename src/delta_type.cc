#include "delta_type.h"

#include <structmember.h>

namespace hermes_stream::py_glue {
namespace {

struct DeltaObject {
  PyObject_HEAD
  PyObject* reasoning;
  PyObject* content;
  PyObject* tool_calls;
  PyObject* forced;
};

PyTypeObject* g_delta_type = nullptr;  // owned by the module; never freed (types live forever)

int DeltaTraverse(PyObject* self, visitproc visit, void* arg) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  Py_VISIT(d->tool_calls);
  Py_VISIT(d->forced);
  Py_VISIT(Py_TYPE(self));
  return 0;
}

int DeltaClear(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  Py_CLEAR(d->reasoning);
  Py_CLEAR(d->content);
  Py_CLEAR(d->tool_calls);
  Py_CLEAR(d->forced);
  return 0;
}

void DeltaDealloc(PyObject* self) {
  PyTypeObject* tp = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  DeltaClear(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

int DeltaBool(PyObject* self) {
  auto* d = reinterpret_cast<DeltaObject*>(self);
  return PyUnicode_GET_LENGTH(d->reasoning) != 0 || PyUnicode_GET_LENGTH(d->content) != 0 ||
         PyList_GET_SIZE(d->tool_calls) != 0 || d->forced != Py_None;
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
  PyObject* calls = tool_calls == Py_None ? PyList_New(0) : PySequence_List(tool_calls);
  if (calls == nullptr) return nullptr;
  auto* d = reinterpret_cast<DeltaObject*>(type->tp_alloc(type, 0));
  if (d == nullptr) {
    Py_DECREF(calls);
    return nullptr;
  }
  d->reasoning = reasoning ? Py_NewRef(reasoning) : PyUnicode_New(0, 0);
  d->content = content ? Py_NewRef(content) : PyUnicode_New(0, 0);
  d->tool_calls = calls;
  d->forced = Py_NewRef(forced);
  return reinterpret_cast<PyObject*>(d);
}

PyMemberDef kDeltaMembers[] = {
    {"reasoning", T_OBJECT_EX, offsetof(DeltaObject, reasoning), READONLY, "reasoning text"},
    {"content", T_OBJECT_EX, offsetof(DeltaObject, content), READONLY, "answer text"},
    {"tool_calls", T_OBJECT_EX, offsetof(DeltaObject, tool_calls), READONLY,
     "list[ToolCallDelta]"},
    {"forced", T_OBJECT_EX, offsetof(DeltaObject, forced), READONLY, "ForcedClose or None"},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot kDeltaSlots[] = {
    {Py_tp_doc, const_cast<char*>("What one feed() produced: reasoning, content, tool-call "
                                  "fragments and a forced close. bool(delta) is False when empty.")},
    {Py_tp_new, reinterpret_cast<void*>(DeltaNew)},
    {Py_tp_dealloc, reinterpret_cast<void*>(DeltaDealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(DeltaTraverse)},
    {Py_tp_clear, reinterpret_cast<void*>(DeltaClear)},
    {Py_tp_members, kDeltaMembers},
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

}  // namespace

void RegisterDelta(pybind11::module_& m) {
  PyObject* type = PyType_FromSpec(&kDeltaSpec);
  if (type == nullptr) throw pybind11::error_already_set();
  g_delta_type = reinterpret_cast<PyTypeObject*>(type);
  m.add_object("Delta", pybind11::reinterpret_steal<pybind11::object>(Py_NewRef(type)));
}

PyObject* NewDelta(PyObject* reasoning, PyObject* content, PyObject* tool_calls, PyObject* forced) {
  auto* d = reinterpret_cast<DeltaObject*>(PyType_GenericAlloc(g_delta_type, 0));
  if (d == nullptr) {
    Py_DECREF(reasoning);
    Py_DECREF(content);
    Py_DECREF(tool_calls);
    Py_DECREF(forced);
    throw pybind11::error_already_set();
  }
  d->reasoning = reasoning;
  d->content = content;
  d->tool_calls = tool_calls;
  d->forced = forced;
  return reinterpret_cast<PyObject*>(d);
}

}  // namespace hermes_stream::py_glue
