"""Shared benchmark settings and the measuring helper (imported by conftest.py and the benches)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import workloads

SMOKE = os.environ.get("HERMES_BENCH_SMOKE", "").strip().lower() not in ("", "0", "false", "no")

#: Reasoning tokens per stream (each stream also has <think>, </think> and 300 answer tokens).
SIZES: tuple[int, ...] = (750, 3_000, 12_000) if SMOKE else (7_500, 30_000, 120_000)
#: The stream the quadratic re-run baseline is measured on, and its sampling stride.
RERUN_SIZE = SIZES[1]
RERUN_EVERY = 100
#: Size of the one-shot parse() input, in UTF-8 bytes.
BULK_BYTES = 1_000_000 if SMOKE else 10_000_000

#: (rounds, warmup_rounds) per kind of benchmark; smoke mode runs everything once.
_ROUNDS = {
    "fast": (15, 2),  # native parser, floor, re over the whole text: ~1-50 ms per round (min)
    "slow": (5, 1),  # reference parser: ~3 us per delta
    "rerun": (5, 1),  # sampled re-run baseline
    "rerun_full": (2, 0),  # re-run after every delta (7.5K stream only: the method check)
    "bulk": (5, 1),
    "bulk_slow": (3, 0),  # reference parse() of 10 MB: ~1 s per round
    "peer": (3, 1),  # optional vLLM / SGLang parsers (test_peers.py): up to seconds per round
}


#: "fast" per-delta benchmarks get more rounds on smaller streams, so that every one of them
#: feeds about this many deltas in total: the min over rounds then does not hinge on a few
#: milliseconds of a noisy machine (a 7.5K-delta round of the floor takes only ~0.6 ms).
FAST_DELTAS = 2_000_000
MAX_ROUNDS = 300


def rounds(kind: str, n_deltas: int | None = None) -> dict[str, int]:
    if SMOKE:
        return {"rounds": 1, "warmup_rounds": 0}
    r, w = _ROUNDS[kind]
    if kind == "fast" and n_deltas:
        r = min(max(r, -(-FAST_DELTAS // n_deltas)), MAX_ROUNDS)
    return {"rounds": r, "warmup_rounds": w}


# ----------------------------------------------------------------------------- workloads
@functools.cache
def stream(n_reasoning: int) -> workloads.Stream:
    return workloads.hermes_stream(n_reasoning)


@functools.lru_cache(maxsize=2)
def bulk(charset: str = "mixed") -> tuple[str, str, str]:
    return workloads.bulk_text(BULK_BYTES, charset)


# ----------------------------------------------------------------------------- measuring
#: key -> per-unit results of this session, for the terminal summary.
RESULTS: dict[str, dict[str, Any]] = {}
#: optional peer key -> what its output got wrong (test_peers.py: such peers are not timed).
PEER_PROBLEMS: dict[str, list[str]] = {}


def measure(
    benchmark: Any,
    target: Callable[..., Any],
    *,
    key: str,
    group: str,
    n_units: int,
    unit: str,
    kind: str,
    setup: Callable[[], tuple[tuple[Any, ...], dict[str, Any]]] | None = None,
    **extra: Any,
) -> Any:
    """``benchmark.pedantic`` with one call per round; records the cost per ``unit``.

    Each round times one call of ``target`` (a whole stream, or one bulk parse); ``setup`` (not
    timed) builds fresh inputs for every round. The per-unit cost is the round time / ``n_units``.
    Returns what the last call of ``target`` returned, for correctness checks.
    """
    benchmark.group = group
    benchmark.extra_info.update(key=key, n_units=n_units, unit=unit, smoke=SMOKE, **extra)
    n_deltas = int(n_units) if unit == "delta" else None
    result = benchmark.pedantic(target, setup=setup, iterations=1, **rounds(kind, n_deltas))
    meta = getattr(benchmark, "stats", None)
    st = getattr(meta, "stats", None)
    if st is not None and getattr(st, "rounds", 0):
        row = {
            "group": group,
            "unit": unit,
            "n_units": n_units,
            "rounds": st.rounds,
            "min_us": st.min / n_units * 1e6,
            "median_us": st.median / n_units * 1e6,
            **extra,
        }
        benchmark.extra_info.update(
            per_unit_min_us=row["min_us"], per_unit_median_us=row["median_us"]
        )
        RESULTS[key] = row
    return result


# ----------------------------------------------------------------------------- timed bodies
# The same loop for every contender, so the floor and the parsers pay the same interpreter cost.
def feed_all(parser: Any, tokens: list[str]) -> Any:
    """Feed every delta through a pre-bound ``feed``, then ``finish()``; returns the parser."""
    feed = parser.feed
    for piece in tokens:
        feed(piece)
    parser.finish()
    return parser


def feed_ids_all(parser: Any, ids: list[int]) -> Any:
    """Feed token ids one at a time through a pre-bound ``feed_tokens``, then ``finish()``."""
    feed = parser.feed_tokens
    for i in ids:
        feed(i)
    parser.finish()
    return parser


def repeat(fn: Callable[[], Any], reps: int) -> Any:
    """Call ``fn`` ``reps`` times (one timed round of a whole-request benchmark); returns the last
    result."""
    out = None
    for _ in range(reps):
        out = fn()
    return out


def call_all(feed: Any, tokens: list[str]) -> None:
    """Call ``feed`` once per delta (the binding floor and its ladder)."""
    for piece in tokens:
        feed(piece)
