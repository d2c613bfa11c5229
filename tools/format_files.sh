#!/usr/bin/env bash
# The C++ files clang-format owns (one per line), for tools/format.sh and .ci/static.
# HERMES_FORMAT_EXCLUDE: extended regex of paths left out (files another branch is rewriting).
set -euo pipefail
cd "$(dirname "$0")/.."
git ls-files 'cpp/*.cc' 'cpp/*.h' 'src/*.cc' 'src/*.h' 'tests/cpp/*.cc' 'tests/cpp/*.h' \
    'tests/fuzz/*.cc' 'tests/fuzz/*.h' \
    | { if [ -n "${HERMES_FORMAT_EXCLUDE:-}" ]; then grep -Ev "$HERMES_FORMAT_EXCLUDE" || true; else cat; fi; }
