"""Per-delta cost of streaming a Hermes output, one delta per token.

Every benchmark times whole streams (one round = one stream) and reports round time / deltas.
Each round gets a new parser and fresh delta str objects (``Stream.fresh_tokens``), built in the
untimed setup. The loop body is the same everywhere (``feed(piece)`` on a pre-bound method), so
the floor and the parsers pay the same interpreter overhead.
"""

from __future__ import annotations

from typing import Any

import pytest

import baselines
import hermes_stream as hs
from harness import RERUN_EVERY, RERUN_SIZE, SIZES, call_all, feed_all, measure, stream

sizes = pytest.mark.parametrize("n", SIZES, ids=str)


def _common(n: int) -> dict[str, Any]:
    s = stream(n)
    return {"n_units": s.n_deltas, "unit": "delta", "n_reasoning": n, "bytes": s.n_bytes}


# ------------------------------------------------------------------------------- floor
@sizes
def test_floor(benchmark: Any, floor: Any, n: int) -> None:
    """Empty pybind11 method ``Floor.feed(text)`` once per delta: the cost of any binding."""
    s = stream(n)
    measure(
        benchmark, call_all, key=f"floor@{n}", group=f"stream-{n}", kind="fast",
        setup=lambda: ((floor.Floor().feed, s.fresh_tokens()), {}), **_common(n),
    )


LADDER = {
    # key: (method, on a Python subclass?, what it adds)
    "floor_sig": ("feed2", False, "feed()'s signature (text, n_tokens=1)"),
    "floor_sub": ("feed", True, "the method called on a Python subclass (hs.StreamParser's shape)"),
    "floor_view": ("feed_view", False, "+ argument checks and the str's UTF-8 view"),
    "floor_echo": ("feed_echo", False, "+ return (new str of the text, '', [], None)"),
}


@sizes
@pytest.mark.parametrize("variant", list(LADDER))
def test_floor_ladder(benchmark: Any, floor: Any, n: int, variant: str) -> None:
    """Informational steps from the floor towards a real feed() (see floor.cc)."""
    method, subclass, _ = LADDER[variant]

    class Sub(floor.Floor):  # type: ignore[misc,name-defined]
        pass

    cls = Sub if subclass else floor.Floor
    s = stream(n)
    measure(
        benchmark, call_all, key=f"{variant}@{n}", group=f"stream-{n}", kind="fast",
        setup=lambda: ((getattr(cls(), method), s.fresh_tokens()), {}), **_common(n),
    )


# ------------------------------------------------------------------------------- parsers
@sizes
@pytest.mark.parametrize("keep", [True, False], ids=["keep", "nokeep"])
def test_native(benchmark: Any, n: int, keep: bool) -> None:
    """``hs.StreamParser(reasoning_budget=None, keep_message=keep).feed`` per delta + finish()."""
    s = stream(n)
    p = measure(
        benchmark, feed_all, key=f"native{'' if keep else '_nokeep'}@{n}", group=f"stream-{n}",
        kind="fast",
        setup=lambda: ((hs.StreamParser(reasoning_budget=None, keep_message=keep),
                        s.fresh_tokens()), {}),
        **_common(n),
    )
    if keep:
        m = p.message
        assert (m.reasoning, m.content) == (s.reasoning, s.content)
    else:
        _check_deltas(hs.StreamParser(reasoning_budget=None, keep_message=False), s)


@sizes
def test_reference(benchmark: Any, n: int) -> None:
    """The pure-Python reference parser, same API."""
    s = stream(n)
    p = measure(
        benchmark, feed_all, key=f"reference@{n}", group=f"stream-{n}", kind="slow",
        setup=lambda: ((hs.reference.StreamParser(reasoning_budget=None), s.fresh_tokens()), {}),
        **_common(n),
    )
    m = p.message
    assert (m.reasoning, m.content) == (s.reasoning, s.content)


def _check_deltas(parser: Any, s: Any) -> None:
    r: list[str] = []
    c: list[str] = []
    for piece in s.fresh_tokens():
        d = parser.feed(piece)
        r.append(d.reasoning)
        c.append(d.content)
    d = parser.finish()
    r.append(d.reasoning)
    c.append(d.content)
    assert ("".join(r), "".join(c)) == (s.reasoning, s.content)


# ------------------------------------------------------------------------------- re
@sizes
def test_re_whole_text(benchmark: Any, n: int) -> None:
    """One ``re`` split of the complete text (no streaming), amortised over the deltas."""
    s = stream(n)
    out = measure(
        benchmark, baselines.regex_split, key=f"re_whole@{n}", group=f"stream-{n}", kind="fast",
        setup=lambda: ((s.text,), {}), **_common(n),
    )
    assert out == (s.reasoning, s.content)


@pytest.mark.parametrize("n", sorted({SIZES[0], RERUN_SIZE}), ids=str)
def test_re_rerun_sampled(benchmark: Any, n: int) -> None:
    """Naive streaming with ``re``: re-run on the accumulated text at every RERUN_EVERY-th delta
    (smallest stream and RERUN_SIZE only: it is quadratic).

    Cost per re-run = round time / re-runs. Every delta is still appended to the accumulated text
    (included in the time; < 1% of it). Sampling at a fixed stride gives the mean re-run cost over
    the stream, i.e. the mean per-delta cost of re-running after every delta (checked against a
    full run by test_re_rerun_every_delta).
    """
    s = stream(n)
    runs = baselines.regex_rerun_runs(s.n_deltas, RERUN_EVERY)
    out = measure(
        benchmark, baselines.regex_rerun, key=f"re_rerun@{n}", group="re-rerun", kind="rerun",
        setup=lambda: ((s.fresh_tokens(), RERUN_EVERY), {}),
        n_units=runs, unit="re-run", n_reasoning=n, bytes=s.n_bytes, every=RERUN_EVERY,
        n_deltas=s.n_deltas,
    )
    assert out == (runs, s.reasoning, s.content)


@pytest.mark.parametrize("n", [SIZES[0]], ids=str)
def test_re_rerun_every_delta(benchmark: Any, n: int) -> None:
    """The same, re-running after every delta; smallest stream only (checks the sampling)."""
    s = stream(n)
    out = measure(
        benchmark, baselines.regex_rerun, key=f"re_rerun_full@{n}", group="re-rerun",
        kind="rerun_full", setup=lambda: ((s.fresh_tokens(), 1), {}),
        n_units=s.n_deltas, unit="re-run", n_reasoning=n, bytes=s.n_bytes, every=1,
        n_deltas=s.n_deltas,
    )
    assert out == (s.n_deltas, s.reasoning, s.content)
