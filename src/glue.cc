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

void ParserLease::NotAParser(PyObject* self) {
  throw py::type_error(std::string("not a hermes_stream StreamParser: ") + Py_TYPE(self)->tp_name);
}

void ParserLease::InUse() { throw UsageError(kInUseMessage); }

void ParserLease::NotInitialised() { throw UsageError("StreamParser.__init__() was not called"); }

std::string_view Utf8Surrogatepass(PyObject* s, py::object* keep) {
  PyErr_Clear();
  *keep = py::reinterpret_steal<py::object>(PyUnicode_AsEncodedString(s, "utf-8", "surrogatepass"));
  if (!*keep) throw py::error_already_set();
  return std::string_view(PyBytes_AS_STRING(keep->ptr()),
                          static_cast<std::size_t>(PyBytes_GET_SIZE(keep->ptr())));
}

std::string Utf8Strict(PyObject* s, const char* what) {
  if (!PyUnicode_Check(s)) {
    throw py::type_error(std::string(what) + " must be a str, got " + Py_TYPE(s)->tp_name);
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s, &size);
  if (data == nullptr) {
    PyErr_Clear();
    throw py::value_error(std::string(what) + " is not valid UTF-8: it contains a lone surrogate");
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
