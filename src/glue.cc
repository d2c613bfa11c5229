#include "glue.h"

#include <new>
#include <stdexcept>
#include <string>

#include "hermes_stream/error.h"

namespace py = pybind11;

namespace hermes_stream::py_glue {

PyTypeObject* g_parser_type = nullptr;

const char* const kInUseMessage =
    "StreamParser is in use by another call: concurrent use from another thread, or a "
    "re-entrant call (from an id_factory, a token generator or a __del__); a parser serves one "
    "call at a time";

void ParserLease::Acquire(PyObject* self, const void* who) {
  if (g_parser_type == nullptr || !PyObject_TypeCheck(self, g_parser_type)) {
    throw py::type_error(std::string("not a hermes_stream StreamParser: ") +
                         Py_TYPE(self)->tp_name);
  }
  auto* obj = reinterpret_cast<ParserObject*>(self);
#ifdef Py_GIL_DISABLED
  const void* expected = nullptr;
  if (!obj->owner.compare_exchange_strong(expected, who, std::memory_order_acquire)) {
    throw UsageError(kInUseMessage);
  }
#else
  if (obj->owner != nullptr) throw UsageError(kInUseMessage);
  obj->owner = who;
#endif
  if (obj->parser == nullptr) {
    obj->owner = nullptr;
    throw UsageError("StreamParser.__init__() was not called");
  }
  obj_ = obj;
}

void ParserLease::Release() noexcept {
  if (obj_ == nullptr) return;
#ifdef Py_GIL_DISABLED
  obj_->owner.store(nullptr, std::memory_order_release);
#else
  obj_->owner = nullptr;
#endif
  obj_ = nullptr;
}

const void* ParserOwner(PyObject* self) {
  return reinterpret_cast<ParserObject*>(self)->owner;
}

std::string_view Utf8Lossless(PyObject* s, py::object* keep) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s, &size);
  if (data == nullptr) {
    PyErr_Clear();
    *keep = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass"));
    if (!*keep) throw py::error_already_set();
    data = PyBytes_AS_STRING(keep->ptr());
    size = PyBytes_GET_SIZE(keep->ptr());
  }
  return std::string_view(data, static_cast<std::size_t>(size));
}

std::string Utf8Strict(PyObject* s, const char* what) {
  if (!PyUnicode_Check(s)) {
    throw py::type_error(std::string(what) + " must be a str, got " + Py_TYPE(s)->tp_name);
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s, &size);
  if (data == nullptr) {
    PyErr_Clear();
    throw py::value_error(std::string(what) +
                          " is not valid UTF-8: it contains a lone surrogate");
  }
  return std::string(data, static_cast<std::size_t>(size));
}

void SetErrorFromCurrentException() noexcept {
  try {
    throw;
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
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception in hermes_stream");
  }
}

void SetErrorFromException(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (...) {
    SetErrorFromCurrentException();
  }
}

}  // namespace hermes_stream::py_glue
