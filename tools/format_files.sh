#!/usr/bin/env bash
# The C++ files clang-format owns (one per line), for tools/format.sh and .ci/static.
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files 'cpp/*.cc' 'cpp/*.h' 'src/*.cc' 'src/*.h' 'tests/cpp/*.cc' 'tests/cpp/*.h' \
    'tests/fuzz/*.cc' 'tests/fuzz/*.h'
