#!/usr/bin/env bash
# Build and run the C++ core unit tests (GoogleTest) under ASan + UBSan with -Werror.
#
# Usage: tools/run_cpp_tests.sh [BUILD_DIR] [-- extra ctest args]
#   BUILD_DIR defaults to build/cpp-asan (relative to the repository root).
# Environment: CMAKE (default cmake), CTEST (default ctest), JOBS (build/test parallelism).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${script_dir}/.." && pwd)"

build_dir="${1:-build/cpp-asan}"
[[ $# -gt 0 ]] && shift
[[ "${1:-}" == "--" ]] && shift
case "${build_dir}" in
  /*) ;;
  *) build_dir="${repo_root}/${build_dir}" ;;
esac

cmake_bin="${CMAKE:-cmake}"
ctest_bin="${CTEST:-ctest}"
jobs="${JOBS:-$(nproc 2>/dev/null || echo 2)}"

# GoogleTest: install the Debian package only when it is missing.
if [[ ! -f /usr/include/gtest/gtest.h ]]; then
  echo "run_cpp_tests: GoogleTest not found, installing libgtest-dev" >&2
  if [[ "$(id -u)" -eq 0 ]]; then
    sudo_cmd=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo_cmd=(sudo)
  else
    echo "run_cpp_tests: need root or sudo to install libgtest-dev" >&2
    exit 1
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq libgtest-dev
fi

"${cmake_bin}" -S "${repo_root}" -B "${build_dir}" -G Ninja \
  -DHERMES_BUILD_PYTHON=OFF \
  -DHERMES_BUILD_TESTS=ON \
  -DHERMES_SANITIZE=ON \
  -DHERMES_WERROR=ON \
  -DCMAKE_BUILD_TYPE=Debug

"${cmake_bin}" --build "${build_dir}" --parallel "${jobs}"

cd "${build_dir}"
"${ctest_bin}" --output-on-failure --parallel "${jobs}" "$@"
