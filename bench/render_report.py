#!/usr/bin/env python3
"""Run bench/test_render.py (or read its JSON) and print the chat-template table with ratios.

    python bench/render_report.py                       # run, then report
    python bench/render_report.py --repeat 3            # best of 3 runs per benchmark
    python bench/render_report.py --json a.json b.json  # report on saved --benchmark-json files

Every figure is µs per render: the best round's time / renders per round (median in
parentheses). Ratios use the best rounds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_JSON = REPO / "build" / "bench-render.json"
SIZES = (2, 20, 200)
ROWS = [
    ("**native** `hs.render`", "native"),
    ("drop-in `hs.apply_chat_template(tok, ..., tokenize=False)`", "dropin"),
    ("reference (pure Python)", "reference"),
    ("plain jinja2, template pre-compiled", "jinja2"),
    ("transformers `apply_chat_template(tokenize=False)`", "hf"),
    ("transformers `apply_chat_template(tokenize=True)`", "hf_tok"),
    ("drop-in `hs.apply_chat_template(tok, ..., tokenize=True)`", "dropin_tok"),
    ("the tokenizer call alone (`tok(text, add_special_tokens=False)`)", "tokenizer"),
]


def load(paths: list[Path]) -> dict[str, dict[str, float]]:
    """key -> {"min", "median"} µs per render, best run per key."""
    best: dict[str, dict[str, float]] = {}
    for path in paths:
        for b in json.loads(path.read_text())["benchmarks"]:
            info = b.get("extra_info", {})
            key, n = info.get("key"), info.get("n_units")
            if not key or not key.startswith("render_") or not n:
                continue
            row = {"min": b["stats"]["min"] / n * 1e6, "median": b["stats"]["median"] / n * 1e6}
            if key not in best or row["min"] < best[key]["min"]:
                best[key] = row
    return best


def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 1000 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def report(best: dict[str, dict[str, float]]) -> str:
    def get(name: str, n: int, stat: str = "min") -> float | None:
        row = best.get(f"render_{name}@{n}")
        return None if row is None else row[stat]

    def ratio(a: float | None, b: float | None) -> str:
        return "—" if a is None or b is None else f"{a / b:,.0f}×" if a / b >= 10 else f"{a / b:.1f}×"

    out = ["| µs per render: min (median) | " + " | ".join(f"{n} messages" for n in SIZES) + " |",
           "| --- | " + " | ".join("---:" for _ in SIZES) + " |"]
    for label, name in ROWS:
        cells = [f"{fmt(get(name, n))} ({fmt(get(name, n, 'median'))})"
                 if get(name, n) is not None else "—" for n in SIZES]
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out += ["", "| ratio | " + " | ".join(f"{n} messages" for n in SIZES) + " | target |",
            "| --- | " + " | ".join("---:" for _ in SIZES) + " | --- |"]
    for label, a, b, target in [
        ("transformers tokenize=False / native", "hf", "native", "≥ 50× at 20"),
        ("transformers tokenize=False / drop-in", "hf", "dropin", ""),
        ("plain jinja2 / native", "jinja2", "native", ""),
        ("reference / native", "reference", "native", ""),
        ("transformers tokenize=True / drop-in tokenize=True", "hf_tok", "dropin_tok", ""),
        ("tokenizer alone / transformers tokenize=True", "tokenizer", "hf_tok", ""),
    ]:
        cells = [ratio(get(a, n), get(b, n)) for n in SIZES]
        out.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path, nargs="+", help="read these files instead of running")
    ap.add_argument("--repeat", type=int, default=1, help="runs; the best per benchmark is kept")
    args = ap.parse_args(argv)
    paths: list[Path] = args.json or []
    if not paths:
        DEFAULT_JSON.parent.mkdir(parents=True, exist_ok=True)
        for i in range(1, max(args.repeat, 1) + 1):
            path = DEFAULT_JSON.with_name(f"{DEFAULT_JSON.stem}-{i}{DEFAULT_JSON.suffix}")
            cmd = [sys.executable, "-m", "pytest", str(HERE / "test_render.py"),
                   "--benchmark-only", f"--benchmark-json={path}", "-q", "-p", "no:cacheprovider"]
            print("$", " ".join(cmd), file=sys.stderr, flush=True)
            if subprocess.run(cmd, cwd=REPO).returncode != 0:
                return 1
            paths.append(path)
    print(report(load(paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
