#!/usr/bin/env python3
"""Run the benchmark suite (or read its JSON) and print a markdown report with the target ratios.

    python bench/report.py                          # run the full suite, then report
    python bench/report.py --repeat 3               # 3 runs, best run per benchmark
    python bench/report.py --json results.json      # report on an existing --benchmark-json file
    python bench/report.py --out bench/RESULTS.md   # also write the markdown to a file
    python bench/report.py --check                  # exit 1 if a target is missed
    python bench/report.py -- -k stream             # extra pytest arguments after --

Every figure is the best (min) round divided by the units in the round (deltas, re-runs or MB);
the median is shown in parentheses where it is given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_JSON = REPO / "build" / "bench-results.json"

# (label, key prefix, note)
STREAM_ROWS = [
    ("floor: empty pybind11 method `Floor.feed(text)`", "floor", "the binding floor"),
    ("floor, feed()'s signature `(text, n_tokens=1)`", "floor_sig", "informational"),
    ("floor, method on a Python subclass", "floor_sub", "informational: hs.StreamParser's shape"),
    ("floor + arg checks + str's UTF-8 view", "floor_view", "informational"),
    ("floor + view + return `(str(text), '', [], None)`", "floor_echo",
     "informational: Delta-shaped result"),
    ("**native** `hs.StreamParser.feed`", "native", "keep_message=True (default)"),
    ("native, keep_message=False", "native_nokeep", "constant memory"),
    ("reference (pure Python)", "reference", ""),
    ("`re` over the whole text once", "re_whole", "not streaming; amortised per delta"),
    ("vLLM 0.33 `deepseek_r1` (`Parser.parse_delta`)", "peer_vllm_deepseek_r1", "optional peer"),
    ("vLLM 0.33 `qwen3`", "peer_vllm_qwen3", "optional peer"),
    ("vLLM 0.33 `qwen3` + `hermes`", "peer_vllm_qwen3+hermes", "optional peer"),
    ("SGLang 0.5.23 `deepseek-r1` (`parse_stream_chunk`)", "peer_sglang_deepseek_r1",
     "optional peer"),
    ("SGLang 0.5.23 `qwen3`", "peer_sglang_qwen3", "optional peer"),
    ("SGLang 0.5.23 `qwen3` + `hermes`", "peer_sglang_qwen3+hermes", "optional peer"),
]


def run_suite(json_path: Path, extra: list[str]) -> int:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable, "-m", "pytest", str(HERE), "--benchmark-only",
        f"--benchmark-json={json_path}", "-q", *extra,
    ]
    print("$", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.run(cmd, cwd=REPO).returncode


class Results:
    """Benchmarks by key; over several runs, each key keeps the run with the best (min) round."""

    def __init__(self, runs: list[dict[str, Any]]) -> None:
        self.data = runs[-1]
        self.n_runs = len(runs)
        self.info: dict[str, Any] = self.data.get("machine_info", {}).get("hermes_bench", {})
        builds = {d.get("machine_info", {}).get("hermes_bench", {}).get("extension_built")
                  for d in runs}
        self.mixed_builds = sorted(str(b) for b in builds) if len(builds) > 1 else []
        self.by_key: dict[str, dict[str, Any]] = {}
        for data in runs:
            for b in data.get("benchmarks", []):
                key = b.get("extra_info", {}).get("key")
                if key and (key not in self.by_key
                            or b["stats"]["min"] < self.by_key[key]["stats"]["min"]):
                    self.by_key[key] = b

    def per_unit(self, key: str, stat: str = "min") -> float | None:
        b = self.by_key.get(key)
        if b is None or "n_units" not in b["extra_info"]:
            return None
        return b["stats"][stat] / b["extra_info"]["n_units"] * 1e6  # µs per unit

    def extra(self, key: str) -> dict[str, Any]:
        b = self.by_key.get(key)
        return b["extra_info"] if b else {}


def _fmt(v: float | None, digits: int = 3) -> str:
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.1f}"
    return f"{v:.{digits}f}"


def _cell(r: Results, key: str) -> str:
    lo, med = r.per_unit(key), r.per_unit(key, "median")
    if lo is None:
        return "—"
    return f"{_fmt(lo)} ({_fmt(med)})"


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def _k(n: int) -> str:
    return f"{n / 1000:g}K" if n >= 1000 else str(n)


def build_report(r: Results) -> tuple[str, list[str]]:
    info = r.info
    extras = [b["extra_info"] for b in r.by_key.values()]
    sizes: list[int] = info.get("sizes") or sorted(
        {e["n_reasoning"] for e in extras if "n_reasoning" in e}
    )
    rerun_n = info.get("rerun_size", sizes[1] if len(sizes) > 1 else sizes[0])
    small, big = sizes[0], sizes[-1]
    out: list[str] = []
    missed: list[str] = []
    w = out.append

    smoke = info.get("smoke")
    title = "# hermes_stream benchmarks"
    if smoke:
        title += " — SMOKE RUN (sizes /10, 1 round: not performance numbers)"
    w(title)
    w("")
    runs = f"best of {r.n_runs} runs per benchmark; " if r.n_runs > 1 else ""
    w(f"Run: {r.data.get('datetime', '?')}; {runs}repo at commit "
      f"{info.get('hermes_stream_git', '?')}.")
    if r.mixed_builds:
        w("")
        w("**Warning: the runs used different installs of the extension "
          f"({', '.join(r.mixed_builds)}).**")
    w("")
    w("| Machine / version | |")
    w("| --- | --- |")
    cores = f"{info.get('cores_logical', '?')} logical"
    if info.get("cores_physical"):
        cores += f", {info['cores_physical']} physical"
    if info.get("cores_usable") and info.get("cores_usable") != info.get("cores_logical"):
        cores += f", {info['cores_usable']} usable"
    for label, value in [
        ("CPU (/proc/cpuinfo)", f"{info.get('cpu_model', '?')} {info.get('cpu_mhz', '')}".strip()),
        ("cores", cores),
        ("OS", info.get("os", "?")),
        ("Python", info.get("python", "?")),
        ("hermes_stream", f"{info.get('hermes_stream', '?')} ({info.get('extension', '?')}, "
                          f"installed {info.get('extension_built', '?')})"),
        ("extension built with", info.get("extension_compiler", "?")),
        ("floor built with", info.get("floor_compiler", "?")),
        ("pybind11", info.get("pybind11", "?")),
        ("pytest / pytest-benchmark",
         f"{info.get('pytest', '?')} / {info.get('pytest-benchmark', '?')}"),
    ]:
        w(f"| {label} | {value} |")
    w("")

    # ------------------------------------------------------------------ per delta
    w("## Cost per delta, µs: min (median) over rounds")
    w("")
    w("Stream = `<think>` + N reasoning tokens + `</think>` + 300 answer tokens, "
      "one delta per token.")
    w("")
    w("| | " + " | ".join(f"N = {_k(n)}" for n in sizes) + " | note |")
    w("| --- | " + " | ".join("---:" for _ in sizes) + " | --- |")
    for label, prefix, note in STREAM_ROWS:
        if not any(f"{prefix}@{n}" in r.by_key for n in sizes):
            if prefix.startswith("peer_"):
                dashes = " | ".join("—" for _ in sizes)
                w(f"| {label} | {dashes} | not run (bench/peers/install.sh) |")
            continue
        w(f"| {label} | " + " | ".join(_cell(r, f"{prefix}@{n}") for n in sizes) + f" | {note} |")
    deltas = [r.extra(f"native@{n}").get("n_units") for n in sizes]
    if all(deltas):
        w("| deltas per stream | " + " | ".join(f"{d:,}" for d in deltas) + " | |")
    w("")

    # ------------------------------------------------------------------ re-run
    w("## Naive streaming with `re` (re-run on the accumulated text), µs per re-run")
    w("")
    w("| stream | re-run at | re-runs | µs per re-run: min (median) | ÷ native µs per delta |")
    w("| --- | --- | ---: | ---: | ---: |")
    rerun_keys = [k for k in r.by_key if k.startswith("re_rerun")]
    for key in sorted(rerun_keys, key=lambda k: (int(k.split("@")[1]), k)):
        e = r.extra(key)
        every = e.get("every", "?")
        at = "every delta" if every == 1 else f"every {every}th delta"
        n = e.get("n_reasoning", 0)
        x = _ratio(r.per_unit(key), r.per_unit(f"native@{n}"))
        w(f"| N = {_k(n)} | {at} | {e.get('n_units', 0):,} | {_cell(r, key)} | {_fmt(x, 0)} |")
    w("")

    # ------------------------------------------------------------------ bulk
    mb = r.extra("parse_native").get("bytes")
    size = f" of a {mb / 1e6:.1f} MB output" if mb else ""
    w(f"## One-shot parse{size} (MB = 10^6 bytes of UTF-8), MB/s")
    w("")
    w("Headline text: the stream mix (with rare emoji, so CPython holds it at 4 bytes/char). "
      "Fresh memory = minor page faults × 4 KiB in one extra call.")
    w("")
    w("| | MB/s (best round) | MB/s (median) | fresh memory touched per call |")
    w("| --- | ---: | ---: | ---: |")
    for label, key in [
        ("**native** `hs.parse(text)`", "parse_native"),
        ("native, `feed(text)` only (keep_message=False, no Message)", "parse_native_feed_nokeep"),
        ("`re` split", "parse_re"),
        ("reference `hs.reference.parse(text)`", "parse_reference"),
        ("_same text without emoji (str at 2 bytes/char):_ native `hs.parse`", "parse_native_bmp"),
        ("_without emoji:_ native `feed(text)` only", "parse_native_feed_nokeep_bmp"),
        ("_ASCII-only text (1 byte/char):_ native `hs.parse`", "parse_native_ascii"),
        ("_ASCII-only:_ native `feed(text)` only", "parse_native_feed_nokeep_ascii"),
    ]:
        lo, med = r.per_unit(key), r.per_unit(key, "median")
        if lo is None:
            continue
        fresh = r.extra(key).get("fresh_mb")
        touched = "" if fresh is None else f"{fresh:,.0f} MB"
        w(f"| {label} | {_fmt(1e6 / lo, 1)} | {_fmt(1e6 / med, 1)} | {touched} |")
    w("")

    # ------------------------------------------------------------------ memory
    mem = [(k, r.extra(k)) for k in sorted(r.by_key) if k.startswith("memory_")]
    if mem:
        w("## Memory over the stream after a 10% warm-up (malloc heap in use, glibc mallinfo2)")
        w("")
        w("| parser | N | bytes fed after warm-up | heap growth, max "
          "| CPython blocks growth, max |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for key, e in mem:
            label = "keep_message=False" if "nokeep" in key else "keep_message=True (control)"
            w(
                f"| {label} | "
                f"{_k(e.get('n_reasoning', 0))} | {e.get('bytes_fed_after_warmup', 0):,} | "
                f"{e.get('heap_growth_max', 0):,} B | {e.get('pyblocks_growth_max', 0):,} |"
            )
        w("")

    # ------------------------------------------------------------------ targets
    w("## Ratios and targets (from the min columns)")
    w("")
    w("| ratio | measured | target | |")
    w("| --- | ---: | ---: | --- |")

    def target(label: str, value: float | None, op: str, bound: float, fmt: str = "{:.2f}") -> None:
        if value is None:
            w(f"| {label} | — | {op} {bound:g} | not measured |")
            return
        ok = value <= bound if op == "≤" else value >= bound
        if not ok:
            missed.append(f"{label}: {fmt.format(value)} (target {op} {bound:g})")
        w(f"| {label} | {fmt.format(value)} | {op} {bound:g} | {'met' if ok else '**MISSED**'} |")

    def info_row(label: str, value: float | None, fmt: str = "{:.2f}") -> None:
        w(f"| {label} | {'—' if value is None else fmt.format(value)} | | informational |")

    pu = r.per_unit
    for n in sizes:
        target(f"feed / floor, N = {_k(n)}", _ratio(pu(f"native@{n}"), pu(f"floor@{n}")),
               "≤", 2.5)
    for n in sizes:
        info_row(f"feed (keep_message=False) / floor, N = {_k(n)}",
                 _ratio(pu(f"native_nokeep@{n}"), pu(f"floor@{n}")))
    target(f"per delta N = {_k(big)} / N = {_k(small)} (native)",
           _ratio(pu(f"native@{big}"), pu(f"native@{small}")), "≤", 1.2)
    target(
        f"per delta N = {_k(big)} / N = {_k(small)} (keep_message=False)",
        _ratio(pu(f"native_nokeep@{big}"), pu(f"native_nokeep@{small}")), "≤", 1.2,
    )
    for n in sizes:
        target(f"reference / native, N = {_k(n)}",
               _ratio(pu(f"reference@{n}"), pu(f"native@{n}")), "≥", 3, "{:.1f}")
    target(
        f"`re` re-run / native, N = {_k(rerun_n)}",
        _ratio(pu(f"re_rerun@{rerun_n}"), pu(f"native@{rerun_n}")), "≥", 1000, "{:,.0f}",
    )
    lo = pu("parse_native")
    target("`hs.parse` MB/s (mixed text, the headline)",
           None if lo is None else 1e6 / lo, "≥", 500, "{:.0f}")
    for cs in ("bmp", "ascii"):
        lo_cs = pu(f"parse_native_{cs}")
        info_row(f"`hs.parse` MB/s, {cs} text", None if lo_cs is None else 1e6 / lo_cs, "{:.0f}")
    info_row("`hs.parse` / `re` split (speed-up)", _ratio(pu("parse_re"), pu("parse_native")))
    info_row("`hs.parse` / reference parse (speed-up)",
             _ratio(pu("parse_reference"), pu("parse_native")), "{:.1f}")
    info_row(
        f"sampled / every-delta re-run cost, N = {_k(small)} (≈ 1 validates sampling)",
        _ratio(pu(f"re_rerun@{small}"), pu(f"re_rerun_full@{small}")),
    )
    w("")
    if smoke:
        w("_Smoke run: ratios are not meaningful._")
        w("")
    if missed:
        w("Missed: " + "; ".join(missed) + ".")
        w("")
    return "\n".join(out), missed


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--json", type=Path, nargs="+",
                    help="read these --benchmark-json files instead of running (several: best "
                         "run per benchmark)")
    ap.add_argument("--save-json", type=Path, default=DEFAULT_JSON,
                    help=f"where a run writes its JSON ({DEFAULT_JSON.relative_to(REPO)}; "
                         "with --repeat, -1, -2, ... before the suffix)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the suite this many times and keep each benchmark's best run "
                         "(robust to slow phases of a shared machine)")
    ap.add_argument("--out", type=Path, help="also write the markdown here")
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    args = ap.parse_args(argv)

    paths: list[Path] = args.json or []
    if not paths:
        base = args.save_json
        for i in range(1, max(args.repeat, 1) + 1):
            path = base if args.repeat <= 1 else base.with_name(f"{base.stem}-{i}{base.suffix}")
            rc = run_suite(path, extra)
            if rc != 0:
                print(f"pytest exited with {rc}", file=sys.stderr)
                if not path.exists():
                    return rc
            paths.append(path)
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in paths]
    text, missed = build_report(Results(runs))
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
