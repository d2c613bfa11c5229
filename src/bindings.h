// Registration functions, one per binding unit; module.cc calls them in order.
#ifndef HERMES_STREAM_SRC_BINDINGS_H_
#define HERMES_STREAM_SRC_BINDINGS_H_

#include <pybind11/pybind11.h>

namespace hermes_stream::py_glue {

void RegisterErrors(pybind11::module_& m);
void RegisterStreamParser(pybind11::module_& m);
void RegisterBatch(pybind11::module_& m);
void RegisterVocab(pybind11::module_& m);
void RegisterRender(pybind11::module_& m);

}  // namespace hermes_stream::py_glue

#endif  // HERMES_STREAM_SRC_BINDINGS_H_
