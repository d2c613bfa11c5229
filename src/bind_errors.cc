#include <pybind11/pybind11.h>

#include "bindings.h"
#include "glue.h"
#include "hermes_stream/error.h"

namespace hermes_stream::py_glue {

void RegisterErrors(pybind11::module_& m) {
  // API misuse (calling out of order) is a RuntimeError; bad arguments are ValueError/TypeError
  // (std::invalid_argument maps to ValueError by pybind11's defaults).
  // By value: pybind11's translator type is void (*)(std::exception_ptr).
  // NOLINTNEXTLINE(performance-unnecessary-value-param)
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const UsageError&) {
      SetErrorFromCurrentException();  // the one mapping (glue.cc), also used by the raw types
    }
  });
  (void)m;
}

}  // namespace hermes_stream::py_glue
