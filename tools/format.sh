#!/usr/bin/env bash
# Apply clang-format (.clang-format at the repo root) in place to the C++ files .ci/static checks.
# CLANG_FORMAT picks the binary (default: clang-format); arguments, if any, replace the file list.
set -euo pipefail
cd "$(dirname "$0")/.."
CF=${CLANG_FORMAT:-clang-format}
if [ $# -gt 0 ]; then files=("$@"); else mapfile -t files < <(bash tools/format_files.sh); fi
"$CF" -i --style=file "${files[@]}"
echo "clang-format ($("$CF" --version | grep -o '[0-9][0-9.]*' | head -1)): ${#files[@]} files formatted"
