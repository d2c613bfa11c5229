// hermes_stream._core.Vocab: the native id -> bytes table (built by hermes_stream.Vocab).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.h"
#include "hermes_stream/vocab.h"

namespace py = pybind11;

namespace hermes_stream::py_glue {

void RegisterVocab(py::module_& m) {
  py::class_<Vocab, std::shared_ptr<Vocab>>(m, "Vocab")
      .def(py::init([](const py::list& pieces, const std::vector<std::int64_t>& eot_ids) {
             std::vector<std::string> bytes(pieces.size());
             std::vector<bool> present(pieces.size(), false);
             for (std::size_t i = 0; i < pieces.size(); ++i) {
               py::handle p = pieces[i];
               if (p.is_none()) continue;
               if (!PyBytes_Check(p.ptr())) {
                 throw py::type_error("Vocab pieces must be bytes or None");
               }
               bytes[i].assign(PyBytes_AS_STRING(p.ptr()),
                               static_cast<std::size_t>(PyBytes_GET_SIZE(p.ptr())));
               present[i] = true;
             }
             return std::make_shared<Vocab>(bytes, present, eot_ids);
           }),
           py::arg("pieces"), py::arg("eot_ids"))
      .def("__len__", &Vocab::size);
}

}  // namespace hermes_stream::py_glue
