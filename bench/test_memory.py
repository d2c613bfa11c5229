"""Memory: with keep_message=False the native parser's memory does not grow with the stream.

The largest stream (120K reasoning tokens; 12K in smoke mode) is fed one delta at a time. After
the first 10% of the deltas (warm-up: buffers reach their working size), the process's malloc
heap in use (glibc ``mallinfo2``: ``uordblks + hblkhd``, which sees the C++ parser's allocations,
unlike tracemalloc) and the number of blocks held by CPython's object allocator
(``sys.getallocatedblocks``) are read at every further 10%. The largest growth over that window
must stay under a small constant, although ~0.4 MB more text goes through the parser.

keep_message=True is the positive control: it keeps the text, so the same measure must grow by
at least half the bytes fed (std::string capacity doubling makes it 0.5x-2x).

These tests take the ``benchmark`` fixture only so that ``--benchmark-only`` runs them too; their
timing (one round, with the checkpoints inside) is not a performance number.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from typing import Any

import pytest

import hermes_stream as hs
from harness import SIZES, SMOKE, stream

CHECKPOINTS = 10
HEAP_BOUND = 64 * 1024  # bytes of malloc heap growth allowed after warm-up (keep_message=False)
BLOCKS_BOUND = 256  # CPython allocator blocks allowed to grow (a few free-list wobbles)


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd",
            "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]


def _mallinfo2() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        fn = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    fn.restype = _MallInfo2
    fn.argtypes = []
    return fn


MALLINFO2 = _mallinfo2()


def _heap_in_use() -> int:
    mi = MALLINFO2()
    return int(mi.uordblks + mi.hblkhd)


def _rss() -> int:
    try:
        with open("/proc/self/statm") as f:
            import os

            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _growth(keep: bool, tokens: list[str]) -> dict[str, Any]:
    gc.collect()
    parser = hs.StreamParser(reasoning_budget=None, keep_message=keep)
    feed = parser.feed
    step = max(len(tokens) // CHECKPOINTS, 1)

    def feed_range(start: int, stop: int) -> None:
        # Drop each delta once fed, as a server does: a non-ASCII str caches its UTF-8 form
        # (allocated by CPython on the str), which must not be counted as parser memory.
        for i in range(start, min(stop, len(tokens))):
            piece, tokens[i] = tokens[i], ""
            feed(piece)

    feed_range(0, step)
    heap0, blocks0, rss0 = _heap_in_use(), sys.getallocatedblocks(), _rss()
    heap, blocks = [], []
    for start in range(step, len(tokens), step):
        feed_range(start, start + step)
        heap.append(_heap_in_use() - heap0)
        blocks.append(sys.getallocatedblocks() - blocks0)
    parser.finish()
    return {
        "heap_growth_max": max(heap),
        "heap_growth_end": heap[-1],
        "heap_growth_series": heap,
        "pyblocks_growth_max": max(blocks),
        "rss_growth": _rss() - rss0,
        "warmup_deltas": step,
    }


@pytest.mark.skipif(MALLINFO2 is None, reason="needs glibc >= 2.33 (mallinfo2) on Linux")
@pytest.mark.parametrize("keep", [False, True], ids=["nokeep", "keep-control"])
def test_memory_growth(benchmark: Any, keep: bool) -> None:
    n = SIZES[-1]
    s = stream(n)
    fed_after_warmup = len(s.text[s.bounds[max(s.n_deltas // CHECKPOINTS, 1)] :].encode("utf-8"))
    benchmark.group = "memory"
    out = benchmark.pedantic(
        _growth, setup=lambda: ((keep, s.fresh_tokens()), {}), rounds=1, iterations=1
    )
    benchmark.extra_info.update(
        key=f"memory_{'keep' if keep else 'nokeep'}@{n}", n_reasoning=n, n_deltas=s.n_deltas,
        bytes_fed_after_warmup=fed_after_warmup, smoke=SMOKE,
        **{k: v for k, v in out.items() if k != "heap_growth_series"},
    )
    if keep:
        assert out["heap_growth_max"] >= fed_after_warmup // 2, (
            f"positive control: keep_message=True should grow by ~{fed_after_warmup} bytes, "
            f"the measure saw {out['heap_growth_series']}"
        )
    else:
        assert out["heap_growth_max"] <= HEAP_BOUND, (
            f"keep_message=False heap grew {out['heap_growth_series']} bytes over "
            f"{fed_after_warmup} bytes of stream"
        )
        assert out["pyblocks_growth_max"] <= BLOCKS_BOUND, out
