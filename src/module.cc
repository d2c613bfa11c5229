#include <pybind11/pybind11.h>

#include "bindings.h"
#include "delta_type.h"

PYBIND11_MODULE(_core, m, pybind11::mod_gil_not_used()) {
  m.doc() = "hermes_stream native core (pybind11 glue over cpp/hermes_stream)";
  hermes_stream::py_glue::RegisterErrors(m);
  hermes_stream::py_glue::RegisterDelta(m);
  hermes_stream::py_glue::RegisterVocab(m);
  hermes_stream::py_glue::RegisterStreamParser(m);
  hermes_stream::py_glue::RegisterBatch(m);
  hermes_stream::py_glue::RegisterRender(m);
}
