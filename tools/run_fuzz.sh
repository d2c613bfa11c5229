#!/usr/bin/env bash
# Coverage-guided fuzzing of the C++ core with libFuzzer (issue 11): builds each target under
# tests/fuzz/ with clang -fsanitize=fuzzer,address,undefined and runs it for a fixed time budget,
# starting from the checked-in seed corpus tests/fuzz/corpus/<target>/ (new inputs go to a
# temporary directory, never into the repository). The targets assert invariants (lossless
# segments, deltas joined == message, chunking independence, ...), not only "no crash".
#
# Usage:
#   tools/run_fuzz.sh                       build and fuzz every target for FUZZ_SECONDS each
#   tools/run_fuzz.sh --replay FILE...      build and run the given inputs once (a crash file,
#                                           or a corpus file); the target comes from the path
#                                           (corpus/<target>/, or <target>-crash-...) or --target
#   tools/run_fuzz.sh --target stream ...   only that target
# Environment:
#   FUZZ_SECONDS   time budget per target (default 60)
#   FUZZ_TARGETS   targets (default: every tests/fuzz/fuzz_*.cc)
#   FUZZ_BUILD     build directory (default: build/fuzz)
#   CXX            clang++ (default: clang++, else clang++-14)
# A crash prints the failing input as base64 (so it can be replayed from a CI log) and is saved
# under $FUZZ_BUILD/artifacts/.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo_root}"

replay=()
targets="${FUZZ_TARGETS:-}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --replay) shift; while [[ $# -gt 0 && "$1" != --* ]]; do replay+=("$1"); shift; done ;;
    --target) targets="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "run_fuzz: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [[ -z "${targets}" ]]; then
  targets="$(ls tests/fuzz/fuzz_*.cc | sed 's|.*/fuzz_||; s|\.cc$||' | tr '\n' ' ')"
fi

cxx="${CXX:-}"
if [[ -z "${cxx}" || "${cxx}" != *clang* ]]; then
  cxx="$(command -v clang++ || command -v clang++-14 || true)"
fi
[[ -n "${cxx}" ]] || { echo "run_fuzz: clang++ not found (apt-get install clang)" >&2; exit 1; }

build="${FUZZ_BUILD:-${repo_root}/build/fuzz}"
mkdir -p "${build}/obj" "${build}/artifacts"
flags=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=all -Wall -Wextra -Werror -Icpp -Itests/fuzz)

t0=$(date +%s)
objs=()
for src in cpp/hermes_stream/*.cc; do
  obj="${build}/obj/$(basename "${src}" .cc).o"
  if [[ ! -f "${obj}" || "${src}" -nt "${obj}" || "$(ls cpp/hermes_stream/*.h | xargs ls -t | head -1)" -nt "${obj}" ]]; then
    "${cxx}" "${flags[@]}" -fsanitize=fuzzer-no-link -c "${src}" -o "${obj}" &
  fi
  objs+=("${obj}")
done
wait
for t in ${targets}; do
  "${cxx}" "${flags[@]}" -fsanitize=fuzzer "tests/fuzz/fuzz_${t}.cc" "${objs[@]}" \
    -o "${build}/fuzz_${t}"
done
echo "run_fuzz: built ${targets% } with ${cxx} in $(( $(date +%s) - t0 )) s"

export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

target_of() {  # the target a file belongs to, from its path
  local f="$1" t
  for t in ${targets}; do
    case "${f}" in
      */corpus/"${t}"/*|*/"${t}"-crash-*|*/"${t}"-timeout-*|*/"${t}"-oom-*|"${t}"-*) echo "${t}"; return ;;
    esac
  done
}

if [[ ${#replay[@]} -gt 0 ]]; then
  status=0
  for f in "${replay[@]}"; do
    t="$(target_of "${f}")"
    for tt in ${t:-${targets}}; do
      echo "run_fuzz: replaying ${f} on ${tt}"
      "${build}/fuzz_${tt}" "${f}" || status=1
    done
  done
  exit "${status}"
fi

seconds="${FUZZ_SECONDS:-60}"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
for t in ${targets}; do
  mkdir -p "${work}/${t}"
  t1=$(date +%s)
  echo "== run_fuzz: ${t} for ${seconds} s (seeds: tests/fuzz/corpus/${t})"
  if ! "${build}/fuzz_${t}" -max_total_time="${seconds}" -max_len=4096 -timeout=20 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="${build}/artifacts/${t}-" \
      "${work}/${t}" "tests/fuzz/corpus/${t}" 2>"${work}/${t}.log"; then
    tail -60 "${work}/${t}.log"
    for a in "${build}/artifacts/${t}-"*; do
      [[ -f "${a}" ]] || continue
      echo "run_fuzz: failing input ${a} (base64; replay: tools/run_fuzz.sh --replay FILE):"
      base64 -w0 "${a}"; echo
    done
    exit 1
  fi
  grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added" "${work}/${t}.log" || true
  echo "run_fuzz: ${t} ok in $(( $(date +%s) - t1 )) s, corpus $(ls "${work}/${t}" | wc -l) new inputs"
done
