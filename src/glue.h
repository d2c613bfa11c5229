// Shared pieces of the Python glue: the raw StreamParser object, its "in use" lease, the one
// str -> UTF-8 helper and the one C++ -> Python exception mapper.
//
// Threading contract (README "Threading and re-entrancy"): a parser serves one call at a time.
// Every entry point takes a ParserLease, which checks and sets `owner` with the GIL held and
// clears it on exit, so a concurrent call (another thread, while feed_many() has released the
// GIL) or a re-entrant one (an id_factory, a generator or a __del__ calling back into the same
// parser) gets a RuntimeError instead of racing on the parser's buffers.
#ifndef HERMES_STREAM_SRC_GLUE_H_
#define HERMES_STREAM_SRC_GLUE_H_

#include <Python.h>

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <pybind11/pybind11.h>

#include "hermes_stream/events.h"
#include "hermes_stream/stream_parser.h"

namespace hermes_stream::py_glue {

struct ParserObject {
  PyObject_HEAD StreamParser* parser;
  PyObject* id_factory;  // owned; the parser's id_factory calls it (visited by the GC)
#ifdef Py_GIL_DISABLED
  std::atomic<const void*> owner;
#else
  const void* owner;  // non-null while a call uses the parser (read and written under the GIL)
#endif
};

/// The parser type (set when the module is initialised).
extern PyTypeObject* g_parser_type;

/// RuntimeError text for a parser that is already in use.
extern const char* const kInUseMessage;

/// Marks a parser as used by the current call (`who` identifies the call) for the lease's
/// lifetime. Throws TypeError (not a parser), RuntimeError (in use, or __init__ not called).
class ParserLease {
 public:
  ParserLease() = default;
  ParserLease(PyObject* self, const void* who) { Acquire(self, who); }
  ~ParserLease() { Release(); }
  ParserLease(const ParserLease&) = delete;
  ParserLease& operator=(const ParserLease&) = delete;
  ParserLease(ParserLease&& o) noexcept : obj_(o.obj_) { o.obj_ = nullptr; }

  // Inline: this runs on every delta.
  void Acquire(PyObject* self, const void* who) {
    if (g_parser_type == nullptr || !PyObject_TypeCheck(self, g_parser_type)) NotAParser(self);
    auto* obj = reinterpret_cast<ParserObject*>(self);
#ifdef Py_GIL_DISABLED
    const void* expected = nullptr;
    if (!obj->owner.compare_exchange_strong(expected, who, std::memory_order_acquire)) InUse();
#else
    if (obj->owner != nullptr) InUse();
    obj->owner = who;
#endif
    if (obj->parser == nullptr) {
      obj->owner = nullptr;
      NotInitialised();
    }
    obj_ = obj;
  }
  void Release() noexcept {
    if (obj_ == nullptr) return;
#ifdef Py_GIL_DISABLED
    obj_->owner.store(nullptr, std::memory_order_release);
#else
    obj_->owner = nullptr;
#endif
    obj_ = nullptr;
  }
  StreamParser& parser() const { return *obj_->parser; }
  ParserObject* object() const { return obj_; }

 private:
  [[noreturn]] static void NotAParser(PyObject* self);
  [[noreturn]] static void InUse();
  [[noreturn]] static void NotInitialised();

  ParserObject* obj_ = nullptr;
};

/// Owner of `self` (nullptr when free); `self` must be a parser.
inline const void* ParserOwner(PyObject* self) {
  return reinterpret_cast<ParserObject*>(self)->owner;
}

/// A token id from a Python int (exact reads: no Python code runs): TypeError for a non-int or a
/// bool, ValueError when it does not fit in 64 bits. The one conversion feed_tokens() and
/// feed_many() share.
inline std::int64_t TokenId(PyObject* x) {
  if (PyBool_Check(x) || !PyLong_Check(x)) {
    throw pybind11::type_error(std::string("token ids must be ints, got ") + Py_TYPE(x)->tp_name);
  }
  const long long v = PyLong_AsLongLong(x);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw pybind11::value_error("token id out of range");
  }
  return v;
}

/// Slow path of Utf8Lossless (lone surrogates; clears the UnicodeEncodeError).
std::string_view Utf8Surrogatepass(PyObject* s, pybind11::object* keep);

/// The UTF-8 bytes of str `s`. Its own cached UTF-8 when valid; with lone surrogates (model
/// output never raises) their surrogatepass bytes, kept alive in `*keep`, which later become
/// U+FFFD. The view lives as long as `s` (or `*keep`).
inline std::string_view Utf8Lossless(PyObject* s, pybind11::object* keep) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s, &size);
  if (data == nullptr) return Utf8Surrogatepass(s, keep);
  return std::string_view(data, static_cast<std::size_t>(size));
}

/// The UTF-8 bytes of str `s` (an option value): ValueError naming `what` for lone surrogates,
/// TypeError for a non-str.
std::string Utf8Strict(PyObject* s, const char* what);

/// Sets the Python error for the C++ exception being handled (call inside a catch block):
/// UsageError -> RuntimeError, std::invalid_argument -> ValueError, bad_alloc -> MemoryError,
/// pybind11 errors as pybind11 maps them, anything else -> RuntimeError.
void SetErrorFromCurrentException() noexcept;

/// The same for a stored exception.
void SetErrorFromException(const std::exception_ptr& e) noexcept;

/// hermes_stream.ForcedClose (handed over by set_types()), or nullptr before that.
PyObject* ForcedCloseClass();
/// hermes_stream.LoopInfo (borrowed; set by set_loop_type()), or NULL before.
PyObject* LoopInfoClass();

/// Delta for one DeltaOut (the parser's vocab decides whether forced ids are attached).
pybind11::object ToDelta(const DeltaOut& out, bool has_vocab);
/// The Delta of one feed of parser `p`: `ToDelta(out, has_vocab)` plus the loop guard's `loop`.
pybind11::object ToDelta(const StreamParser& p, const DeltaOut& out);

/// Runs `f` (returning a py::object), mapping C++ exceptions to Python errors.
template <class F>
PyObject* Guard(F&& f) noexcept {
  try {
    return f().release().ptr();
  } catch (...) {
    SetErrorFromCurrentException();
  }
  return nullptr;
}

}  // namespace hermes_stream::py_glue

#endif  // HERMES_STREAM_SRC_GLUE_H_
