#!/usr/bin/env bash
# Build the extension itself (hermes_stream._core) with AddressSanitizer + UndefinedBehaviorSanitizer
# (-Werror; -O0 -g like tools/run_cpp_tests.sh, since GCC 12 at -O2 with ASan reports
# -Warray-bounds false positives in the render code, chat_template.cc and json_writer.h) and run
# the Python stress, misuse, adversarial, batch and render tests plus a short differential run
# against it (issue 11).
#
# Usage: tools/run_asan_python.sh [-- extra pytest args]
# Environment:
#   PYTHON             interpreter to test with (default: python3 on PATH); it needs pytest,
#                      hypothesis and pybind11 (installed with pip when pybind11 is missing)
#   HERMES_ASAN_BUILD  build directory (default: a fresh temporary directory, removed at exit)
#   ASAN_TESTS         test files to run (default: the list below)
#   HERMES_STRESS_REPEAT repetitions of each racy stress case (default here: 100)
#   JOBS               build parallelism
#
# How: CMake configures the package with HERMES_SANITIZE=ON (-fsanitize=address,undefined
# -fno-sanitize-recover=all); the built _core.so goes next to symlinks of python/hermes_stream in
# a temporary directory on PYTHONPATH; the uninstrumented interpreter runs with libasan and
# libubsan preloaded, PYTHONMALLOC=malloc (so a freed Python object is visible to ASan) and
# detect_leaks=0 (CPython leaks by design at exit).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python_bin="${PYTHON:-python3}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
[[ "${1:-}" == "--" ]] && shift

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT
build_dir="${HERMES_ASAN_BUILD:-${tmp}/build}"

if ! "${python_bin}" -c "import pybind11" 2>/dev/null; then
  echo "run_asan_python: installing pybind11 (for its CMake config)" >&2
  "${python_bin}" -m pip install -q "pybind11>=3"
fi
pybind11_dir="$("${python_bin}" -m pybind11 --cmakedir)"

t0=$(date +%s)
cmake -S "${repo_root}" -B "${build_dir}" \
  -DCMAKE_BUILD_TYPE=Debug \
  -DHERMES_BUILD_PYTHON=ON -DHERMES_BUILD_TESTS=OFF \
  -DHERMES_SANITIZE=ON -DHERMES_WERROR=ON \
  -DPython_EXECUTABLE="$(command -v "${python_bin}")" \
  -Dpybind11_DIR="${pybind11_dir}" >"${tmp}/cmake.log" || { cat "${tmp}/cmake.log"; exit 1; }
cmake --build "${build_dir}" --parallel "${jobs}" --target _core
so="$(ls "${build_dir}"/src/_core*.so)"
echo "run_asan_python: built ${so} in $(( $(date +%s) - t0 )) s"

# The package: symlinks to the sources plus the instrumented extension.
pkg="${tmp}/pkg"
mkdir -p "${pkg}"
cp -rs "${repo_root}/python/hermes_stream" "${pkg}/hermes_stream"
ln -sf "${so}" "${pkg}/hermes_stream/$(basename "${so}")"

cxx="$(grep -m1 '^CMAKE_CXX_COMPILER:' "${build_dir}/CMakeCache.txt" | cut -d= -f2)"
libasan="$("${cxx}" -print-file-name=libasan.so)"
libubsan="$("${cxx}" -print-file-name=libubsan.so)"
[[ -e "${libasan}" && -e "${libubsan}" ]] || { echo "libasan/libubsan not found for ${cxx}" >&2; exit 1; }

export PYTHONPATH="${pkg}${PYTHONPATH:+:${PYTHONPATH}}"
export PYTHONMALLOC=malloc
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:strict_init_order=1:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-dev}"  # the short differential run
export HERMES_STRESS_REPEAT="${HERMES_STRESS_REPEAT:-100}"
run() { LD_PRELOAD="${libasan}:${libubsan}" "${python_bin}" "$@"; }

# The import must find the instrumented build, not an installed copy.
where="$(run -c 'import hermes_stream._core as c; print(c.__file__)')"
case "${where}" in
  "${pkg}"/*) echo "run_asan_python: testing ${where}" ;;
  *) echo "run_asan_python: imported ${where}, not the ASan build" >&2; exit 1 ;;
esac

tests="${ASAN_TESTS:-tests/python/test_stress.py tests/python/test_misuse.py tests/python/test_adversarial.py tests/python/test_batch.py tests/python/test_differential.py tests/python/test_render.py}"
cd "${repo_root}"
t1=$(date +%s)
# shellcheck disable=SC2086  # the test list is split on purpose
# --capture=sys: a sanitizer report (written to fd 2) must reach the log even when it aborts.
run -m pytest -q -p no:cacheprovider --capture=sys ${tests} "$@"
echo "run_asan_python: tests passed in $(( $(date +%s) - t1 )) s"
