// The native Delta type: a small C-level object with five read-only fields, created once per feed.
// A raw CPython type (not a pybind11 class) because it is built on the per-token path.
#ifndef HERMES_STREAM_SRC_DELTA_TYPE_H_
#define HERMES_STREAM_SRC_DELTA_TYPE_H_

#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace hermes_stream::py_glue {

/// Adds `Delta` to the module.
void RegisterDelta(pybind11::module_& m);

/// New Delta; steals the references (`calls` is a non-empty tuple or NULL; the others non-null).
/// Returns NULL with a Python error set on failure.
PyObject* NewDelta(PyObject* reasoning, PyObject* content, PyObject* calls, PyObject* forced);

/// New ToolCallDelta (`id`/`name` null -> None). Returns NULL with a Python error set on failure.
PyObject* NewCallDelta(std::int64_t index, const std::string* id, const std::string* name,
                       const std::string& arguments);

/// Sets a new Delta's `loop` (steals `loop`, a LoopInfo).
void SetDeltaLoop(PyObject* delta, PyObject* loop);

}  // namespace hermes_stream::py_glue

#endif  // HERMES_STREAM_SRC_DELTA_TYPE_H_
