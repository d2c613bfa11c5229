#!/usr/bin/env python3
"""Where feed() and parse() spend their time: a perf workload and a categorised perf report.

Not a benchmark (the numbers come from bench/); this reproduces the breakdown in bench/README.md.
Build an unstripped copy of the extension first (the installed one is stripped), outside the repo:

    cmake -S . -B /tmp/hs-prof -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \\
          -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O3 -g -DNDEBUG" \\
          -Dpybind11_DIR="$(python -m pybind11 --cmakedir)"
    cmake --build /tmp/hs-prof
    mkdir -p /tmp/hs-pkg && cp -r python/hermes_stream /tmp/hs-pkg/ \\
          && cp /tmp/hs-prof/src/_core*.so /tmp/hs-pkg/hermes_stream/
    export PYTHONPATH=/tmp/hs-pkg

Then, per mode, record the workload and the same script doing only its setup ("none"), and
subtract:

    for m in none floor native; do
      perf record -e cpu-clock -c 50000 -o /tmp/$m.data python bench/profile_feed.py run $m 300
    done
    python bench/profile_feed.py report /tmp/native.data /tmp/none.data --units $((300*30302))

Modes: none, floor, native, nokeep (30K stream, one delta per token, REPS streams);
bulk-none, parse, feed (a 10 MB mixed-text output, REPS parses: report with
--units REPS --per ms --kind bulk).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PERIOD_NS = 50_000  # perf record -c 50000 with -e cpu-clock: one sample per 50 µs of CPU

FEED_CATEGORIES = [
    ("parser core (C++: UTF-8 check, tag scan, append)",
     r"hermes_stream::(StreamParser|Utf8|ValidUtf8|Match)|_M_append|__memchr|__memmove|_M_replace"
     r"|_M_assign|operator new|malloc|_int_malloc|cfree|_int_free"),
    ("glue: str -> UTF-8 view, n_tokens check",
     r"TokenCount|FeedStr|PyUnicode_AsUTF8AndSize|PyLong_AsLongLong"),
    ("glue: Delta (GC object, empty list, 2 str; free; GC passes)",
     r"ToDelta|NewDelta|Delta(Dealloc|Clear|Traverse)|PyType_GenericAlloc|PyList_New|list_dealloc"
     r"|_PyObject_Malloc|_PyObject_Free|PyObject_GC|_PyObject_GC|_PyTrash|unicode_decode_utf8"
     r"|ascii_decode|PyUnicode_New|_Py_NewReference|unicode_dealloc|PyUnicode_DecodeUTF8|__memset"
     r"|_Py_Dealloc|gc_collect|visit_|subtract_refs|update_refs|move_unreachable"),
    ("pybind11 dispatch (self cast, arguments, return)",
     r"pybind11|__tls_get_addr|PyThreadState_Get|PyErr_Occurred"),
    ("interpreter: loop + call",
     r"_PyEval_EvalFrameDefault|listiter_next|[Vv]ectorcall|_Py_CheckFunctionResult"
     r"|_PyObject_MakeTpCall|unicodekeys|_Py_dict_lookup"),
]
BULK_CATEGORIES = [
    ("kernel: page faults, zeroing fresh pages of new big buffers", r"^\[kernel"),
    ("str -> UTF-8 (CPython encoder)", r"utf8_encoder|PyUnicode_AsUTF8"),
    ("UTF-8 -> str for the results (CPython decoder)",
     r"unicode_decode_utf8|ascii_decode|_copy_characters|PyUnicode_New|_PyUnicode_FromUCS"),
    ("memcpy into C++ strings / joins", r"__memmove|__memcpy|_M_append|_M_assign|_M_replace"),
    ("parser core (UTF-8 validation + tag scan)", r"hermes_stream::|__memchr"),
]


def run(mode: str, reps: int) -> None:
    import floor_build
    import hermes_stream as hs
    import workloads
    from harness import call_all

    if mode in ("bulk-none", "parse", "feed"):
        # Cached on disk: generating it takes ~1 s of noisy CPU that the baseline must not carry.
        cache = Path(__file__).resolve().parent.parent / "build" / "bench-profile" / "bulk-10MB.txt"
        if not cache.exists():
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(workloads.bulk_text(10_000_000)[0], encoding="utf-8")
        text = cache.read_text(encoding="utf-8")
        copies = [workloads.fresh_copy(text) for _ in range(reps)]
        t = time.perf_counter()
        for s in copies:
            if mode == "parse":
                hs.parse(s, reasoning_budget=None)
            elif mode == "feed":
                p = hs.StreamParser(reasoning_budget=None, keep_message=False)
                p.feed(s)
                p.finish()
        dt = (time.perf_counter() - t) / reps
        print(f"{mode}: {dt * 1e3:.1f} ms per 10 MB ({10 / dt:.0f} MB/s) with {hs.__file__}")
        return

    floor = floor_build.load()
    tokens = workloads.hermes_stream(30_000).fresh_tokens()

    t = time.perf_counter()
    for _ in range(reps):
        if mode == "none":
            continue
        if mode == "floor":
            feed = floor.Floor().feed
        else:
            feed = hs.StreamParser(reasoning_budget=None, keep_message=(mode == "native")).feed
        call_all(feed, tokens)
    dt = (time.perf_counter() - t) / reps / len(tokens)
    print(f"{mode}: {dt * 1e9:.1f} ns per delta ({len(tokens)} deltas x {reps}) with {hs.__file__}")


def _samples(path: str) -> dict[tuple[str, str], int]:
    out = subprocess.run(
        ["perf", "report", "-i", path, "-n", "--no-children", "--sort", "dso,symbol", "--stdio",
         "--percent-limit", "0"],
        capture_output=True, text=True, check=True,
    ).stdout
    res: dict[tuple[str, str], int] = {}
    for line in out.splitlines():
        m = re.match(r"\s+[\d.]+%\s+(\d+)\s+(\S+)\s+\[.\]\s+(.*)", line)
        if m:
            key = (m.group(2), m.group(3).strip())
            res[key] = res.get(key, 0) + int(m.group(1))
    return res


def report(data: str, baseline: str, units: float, per: str, kind: str) -> None:
    c, base = _samples(data), _samples(baseline)
    rules = BULK_CATEGORIES if kind == "bulk" else FEED_CATEGORIES
    scale = PERIOD_NS / units / (1e6 if per == "ms" else 1)
    cats: dict[str, float] = collections.OrderedDict((name, 0.0) for name, _ in rules)
    cats["other"] = 0.0
    for key in set(c) | set(base):
        v = (c.get(key, 0) - base.get(key, 0)) * scale
        target = f"{key[0]} {key[1]}"
        for name, rx in rules:
            if re.search(rx, target if rx.startswith("^") else key[1]):
                cats[name] += v
                break
        else:
            cats["other"] += v
    total = sum(cats.values())
    print(f"{data} minus {baseline}: {total:.1f} {per} per unit")
    for name, v in cats.items():
        print(f"  {v:8.1f} {per}  {100 * v / total:5.1f}%  {name}")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    modes = ["none", "floor", "native", "nokeep", "bulk-none", "parse", "feed"]
    r.add_argument("mode", choices=modes)
    r.add_argument("reps", type=int)
    p = sub.add_parser("report")
    p.add_argument("data")
    p.add_argument("baseline")
    p.add_argument("--units", type=float, required=True, help="deltas (or parses) recorded")
    p.add_argument("--per", choices=["ns", "ms"], default="ns")
    p.add_argument("--kind", choices=["feed", "bulk"], default="feed", help="category set")
    a = ap.parse_args()
    if a.cmd == "run":
        run(a.mode, a.reps)
    else:
        report(a.data, a.baseline, a.units, a.per, a.kind)
    return 0


if __name__ == "__main__":
    sys.exit(main())
