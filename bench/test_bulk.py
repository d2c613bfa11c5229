"""One-shot ``parse()`` of a ~10 MB Hermes output (1 MB in smoke mode), reported in MB/s.

MB = 10^6 bytes of the UTF-8 input. Each round parses a fresh copy of the text (a new str
object, made in the untimed setup), so converting the str to UTF-8 is part of the measured cost,
as it is for any str a caller passes in.

The headline input is the stream mix ("mixed": ~4% non-ASCII pieces including rare emoji, so
CPython stores the 10 MB str at 4 bytes per character). The native parser is also measured on
the same text without emoji ("bmp", 2 bytes per character) and ASCII-only ("ascii", 1 byte per
character, where CPython's UTF-8 view of the str is free): informational rows that show how much
of the cost is converting between str and UTF-8.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import baselines
import hermes_stream as hs
import workloads
from harness import BULK_BYTES, bulk, measure

GROUP = f"bulk-{BULK_BYTES / 1e6:g}MB"
charsets = pytest.mark.parametrize("charset", ["mixed", "bmp", "ascii"])


def _info(charset: str) -> dict[str, Any]:
    text, _, _ = bulk(charset)
    n_bytes = len(text.encode("utf-8"))
    return {"n_units": n_bytes / 1e6, "unit": "MB", "bytes": n_bytes, "charset": charset}


def _setup(charset: str) -> Any:
    return lambda: ((workloads.fresh_copy(bulk(charset)[0]),), {})


def _fresh_pages(benchmark: Any, fn: Callable[[str], Any], charset: str) -> None:
    """One extra, untimed call counting minor page faults: the fresh memory a parse touches
    (it explains the MB/s: see README). Recorded in extra_info as MB of 4 KiB pages."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    text = workloads.fresh_copy(bulk(charset)[0])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn(text)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    benchmark.extra_info.update(minor_faults=faults, fresh_mb=faults * 4096 / 1e6)


def _key(name: str, charset: str) -> str:
    return name if charset == "mixed" else f"{name}_{charset}"


def _parse_native(text: str) -> Any:
    return hs.parse(text, reasoning_budget=None)


def _parse_reference(text: str) -> Any:
    return hs.reference.parse(text, reasoning_budget=None)


def _feed_nokeep(text: str) -> Any:
    p = hs.StreamParser(reasoning_budget=None, keep_message=False)
    d = p.feed(text)
    p.finish()
    return d


@charsets
def test_parse_native(benchmark: Any, charset: str) -> None:
    """``hs.parse(text)``: one feed + finish + building the Message (joined texts, segments)."""
    m = measure(benchmark, _parse_native, key=_key("parse_native", charset), group=GROUP,
                kind="bulk", setup=_setup(charset), **_info(charset))
    _, reasoning, content = bulk(charset)
    assert (m.reasoning, m.content) == (reasoning, content)
    _fresh_pages(benchmark, _parse_native, charset)


@charsets
def test_parse_native_feed_only(benchmark: Any, charset: str) -> None:
    """One ``feed(text)`` with keep_message=False: the scan alone, no Message (informational)."""
    d = measure(benchmark, _feed_nokeep, key=_key("parse_native_feed_nokeep", charset),
                group=GROUP, kind="bulk", setup=_setup(charset), **_info(charset))
    assert d.reasoning == bulk(charset)[1]
    _fresh_pages(benchmark, _feed_nokeep, charset)


def test_parse_re(benchmark: Any) -> None:
    """``re`` think/answer split of the whole text."""
    out = measure(benchmark, baselines.regex_split, key="parse_re", group=GROUP, kind="bulk",
                  setup=_setup("mixed"), **_info("mixed"))
    assert out == bulk("mixed")[1:]


def test_parse_reference(benchmark: Any) -> None:
    """``hs.reference.parse(text)``: the pure-Python reference."""
    m = measure(benchmark, _parse_reference, key="parse_reference", group=GROUP,
                kind="bulk_slow", setup=_setup("mixed"), **_info("mixed"))
    _, reasoning, content = bulk("mixed")
    assert (m.reasoning, m.content) == (reasoning, content)
