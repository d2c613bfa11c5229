// The binding floor: the cheapest possible pybind11 method call that takes a str, shaped like
// hermes_stream's StreamParser.feed (a method on a pybind11 object, argument taken as a
// py::handle so pybind11 does no conversion). The benchmark calls `Floor().feed(piece)` once per
// delta; whatever hs.StreamParser.feed costs above this is the parser plus building the Delta.
// feed2 / feed_view / feed_echo are an informational ladder from the floor towards a real feed.
//
// Built by bench/_floor_build.py (g++ straight from pybind11's headers, cached under
// build/bench-floor/) or by the CMakeLists.txt next to this file. Same flags as the real
// extension: -O3 -DNDEBUG -fvisibility=hidden -flto.
#include <pybind11/pybind11.h>

#include <string_view>

namespace py = pybind11;

namespace {

class Floor {
 public:
  // Empty: no type check, no conversion, returns None.
  void Feed(py::handle /*text*/) {}
  // Same signature as StreamParser.feed (text, n_tokens=1), still doing nothing.
  void Feed2(py::handle /*text*/, py::handle /*n_tokens*/) {}

  // The "ladder" below adds, one step at a time, the work any str-in/Delta-out feed() has to do,
  // so the benchmarks can show where hs.StreamParser.feed's time goes without a profiler.

  // + check the arguments and get the str's UTF-8 bytes (what hermes_stream's FeedStr does
  // before the parser runs). Returns None.
  void FeedView(py::handle text, py::handle n_tokens) { View(text, n_tokens); }

  // + return a Delta-shaped result: a 4-tuple (str of the delta's text, "", [], None). The
  // cheapest result a feed() can return that carries the text back as a new str.
  py::object FeedEcho(py::handle text, py::handle n_tokens) {
    std::string_view v = View(text, n_tokens);
    PyObject* reasoning =
        PyUnicode_DecodeUTF8(v.data(), static_cast<Py_ssize_t>(v.size()), nullptr);
    if (reasoning == nullptr) throw py::error_already_set();
    PyObject* content = PyUnicode_New(0, 0);
    PyObject* calls = PyList_New(0);
    PyObject* t = PyTuple_New(4);
    if (content == nullptr || calls == nullptr || t == nullptr) {
      Py_XDECREF(reasoning);
      Py_XDECREF(content);
      Py_XDECREF(calls);
      Py_XDECREF(t);
      throw py::error_already_set();
    }
    PyTuple_SET_ITEM(t, 0, reasoning);
    PyTuple_SET_ITEM(t, 1, content);
    PyTuple_SET_ITEM(t, 2, calls);
    PyTuple_SET_ITEM(t, 3, Py_NewRef(Py_None));
    return py::reinterpret_steal<py::object>(t);
  }

 private:
  static std::string_view View(py::handle text, py::handle n_tokens) {
    if (!PyUnicode_Check(text.ptr())) throw py::type_error("feed() takes a str");
    if (PyBool_Check(n_tokens.ptr()) || !PyLong_Check(n_tokens.ptr())) {
      throw py::type_error("n_tokens must be an int");
    }
    long long n = PyLong_AsLongLong(n_tokens.ptr());
    if (n == -1 && PyErr_Occurred()) throw py::error_already_set();
    if (n < 0) throw py::value_error("n_tokens must be >= 0");
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
    if (data == nullptr) throw py::error_already_set();  // lone surrogates: not in the bench
    return {data, static_cast<std::size_t>(size)};
  }
};

}  // namespace

PYBIND11_MODULE(_hermes_bench_floor, m, py::mod_gil_not_used()) {
  m.doc() = "hermes_stream benchmark floor: empty pybind11 methods";
  py::class_<Floor>(m, "Floor", py::dynamic_attr())
      .def(py::init<>())
      .def("feed", &Floor::Feed, py::arg("text"), "Do nothing with a str.")
      .def("feed2", &Floor::Feed2, py::arg("text"), py::arg("n_tokens") = 1,
           "Do nothing, with feed()'s full signature (text, n_tokens=1).")
      .def("feed_view", &Floor::FeedView, py::arg("text"), py::arg("n_tokens") = 1,
           "Check the arguments and take the str's UTF-8 view; return None.")
      .def("feed_echo", &Floor::FeedEcho, py::arg("text"), py::arg("n_tokens") = 1,
           "feed_view, then return (text as a new str, '', [], None).");
  m.def("noop", [](py::handle) {}, py::arg("text"), "Module-level empty function (reference).");
}
