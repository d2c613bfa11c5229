"""Per-delta cost of streaming tool calls (issue 3): native vs the binding floor, the reference,
``re`` + ``json.loads`` once at the end, and the ``re`` re-run on the accumulated text per delta
(sampled every RERUN_EVERY deltas, reported per re-run)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import hermes_stream as hs
import tool_workloads
from harness import RERUN_EVERY, SMOKE, call_all, feed_all, measure

STREAMS = {
    "3calls": tool_workloads.three_calls(200 if SMOKE else 2_000),
    "longarg": tool_workloads.long_argument(3_000 if SMOKE else 30_000),
    # The same shape, 10x shorter: per-delta cost must not grow with the argument's length.
    "longarg_short": tool_workloads.long_argument(300 if SMOKE else 3_000),
}
CALL_RE = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.S)
streams = pytest.mark.parametrize("name", sorted(STREAMS))


def _info(s: tool_workloads.ToolStream) -> dict[str, Any]:
    return {"n_units": len(s.tokens), "unit": "delta", "bytes": len(s.text.encode())}


def _check(calls: list[Any], s: tool_workloads.ToolStream) -> None:
    assert [(c.name, c.parsed_arguments) for c in calls] == list(s.calls)
    assert all(c.error is None for c in calls)


@streams
def test_tool_floor(benchmark: Any, floor: Any, name: str) -> None:
    s = STREAMS[name]
    measure(benchmark, call_all, key=f"tc_floor@{name}", group=f"tools-{name}", kind="fast",
            setup=lambda: ((floor.Floor().feed, s.fresh_tokens()), {}), **_info(s))


@streams
def test_tool_native(benchmark: Any, name: str) -> None:
    s = STREAMS[name]
    p = measure(benchmark, feed_all, key=f"tc_native@{name}", group=f"tools-{name}", kind="fast",
                setup=lambda: ((hs.StreamParser(reasoning_budget=None), s.fresh_tokens()), {}),
                **_info(s))
    _check(p.message.tool_calls, s)


@streams
def test_tool_reference(benchmark: Any, name: str) -> None:
    s = STREAMS[name]
    p = measure(benchmark, feed_all, key=f"tc_reference@{name}", group=f"tools-{name}",
                kind="slow",
                setup=lambda: ((hs.reference.StreamParser(reasoning_budget=None), s.fresh_tokens()),
                               {}),
                **_info(s))
    _check(p.message.tool_calls, s)


def _regex_once(text: str) -> list[Any]:
    return [json.loads(body) for body in CALL_RE.findall(text)]


@streams
def test_tool_re_once(benchmark: Any, name: str) -> None:
    s = STREAMS[name]
    out = measure(benchmark, _regex_once, key=f"tc_re_once@{name}", group=f"tools-{name}",
                  kind="fast", setup=lambda: ((s.text,), {}), **_info(s))
    assert [(c["name"], c["arguments"]) for c in out] == list(s.calls)


def _regex_rerun(tokens: list[str]) -> int:
    """Accumulate; every RERUN_EVERY deltas re-run the regex and try json.loads on each match
    (what apps that re-parse per delta do). Returns the number of re-runs."""
    acc = ""
    runs = 0
    for i, piece in enumerate(tokens):
        acc += piece
        if i % RERUN_EVERY == 0:
            runs += 1
            for body in CALL_RE.findall(acc):
                json.loads(body)
    return runs


@streams
def test_tool_re_rerun(benchmark: Any, name: str) -> None:
    s = STREAMS[name]
    n_runs = (len(s.tokens) + RERUN_EVERY - 1) // RERUN_EVERY
    measure(benchmark, _regex_rerun, key=f"tc_re_rerun@{name}", group=f"tools-{name}",
            kind="rerun", setup=lambda: ((s.fresh_tokens(),), {}), n_units=n_runs, unit="re-run",
            bytes=len(s.text.encode()))
