"""BatchParser (issue 6): per stream-delta cost of feed_many at 256 live streams, against the empty
pybind11 call (single stream) and 256 separate StreamParser.feed calls."""

from __future__ import annotations

import random
from typing import Any

import hermes_stream as hs
import workloads
from harness import SMOKE, measure

N_STREAMS = 256
STEPS = 20 if SMOKE else 200


def _steps() -> list[list[tuple[int, str]]]:
    rng = random.Random(5)
    toks = [workloads.random_tokens(STEPS, rng) for _ in range(N_STREAMS)]
    for t in toks:
        t[0] = "<think>" + t[0]
    return [[(sid, toks[sid][k]) for sid in range(N_STREAMS)] for k in range(STEPS)]


STEPS_DATA = _steps()
INFO = {"n_units": N_STREAMS * STEPS, "unit": "stream-delta", "streams": N_STREAMS}


def _fresh() -> list[list[tuple[int, str]]]:
    return [[(sid, "".join([p[:1], p[1:]]) if len(p) > 1 else p) for sid, p in step]
            for step in STEPS_DATA]


def _batch_run(batch: Any, steps: list[list[tuple[int, str]]]) -> Any:
    feed_many = batch.feed_many
    for step in steps:
        feed_many(step)
    return batch


def _new_batch() -> Any:
    b = hs.BatchParser(reasoning_budget=None)
    for sid in range(N_STREAMS):
        b.add(sid)
    return b


def test_batch_feed_many(benchmark: Any) -> None:
    b = measure(benchmark, _batch_run, key="batch@256", group="batch", kind="fast",
                setup=lambda: ((_new_batch(), _fresh()), {}), **INFO)
    single = hs.StreamParser(reasoning_budget=None)
    for step in STEPS_DATA:
        single.feed(step[7][1])
    single.finish()
    b.finish(7)
    assert b.message(7).reasoning == single.message.reasoning


def _singles_run(parsers: list[Any], steps: list[list[tuple[int, str]]]) -> None:
    feeds = [p.feed for p in parsers]
    for step in steps:
        for sid, piece in step:
            feeds[sid](piece)


def test_batch_separate_parsers(benchmark: Any) -> None:
    measure(benchmark, _singles_run, key="batch_singles@256", group="batch", kind="fast",
            setup=lambda: (([hs.StreamParser(reasoning_budget=None) for _ in range(N_STREAMS)],
                            _fresh()), {}), **INFO)


def _floor_run(feed: Any, steps: list[list[tuple[int, str]]]) -> None:
    for step in steps:
        for _sid, piece in step:
            feed(piece)


def test_batch_floor(benchmark: Any, floor: Any) -> None:
    measure(benchmark, _floor_run, key="batch_floor@256", group="batch", kind="fast",
            setup=lambda: ((floor.Floor().feed, _fresh()), {}), **INFO)
