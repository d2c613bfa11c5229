"""API misuse raises clear errors (SPEC rule 15); model output never does."""

from __future__ import annotations

from typing import Any

import pytest


def test_feed_after_finish(backend: Any) -> None:
    p = backend.StreamParser()
    p.finish()
    with pytest.raises(RuntimeError, match="after finish"):
        p.feed("x")
    with pytest.raises(RuntimeError, match="after finish"):
        p.feed_bytes(b"x")
    with pytest.raises(RuntimeError, match="after finish"):
        p.finish()


@pytest.mark.parametrize("bad", [b"bytes", 1, None, ["x"]])
def test_feed_wrong_type(backend: Any, bad: Any) -> None:
    with pytest.raises(TypeError, match="feed"):
        backend.StreamParser().feed(bad)


@pytest.mark.parametrize("bad", ["text", 1, None])
def test_feed_bytes_wrong_type(backend: Any, bad: Any) -> None:
    with pytest.raises(TypeError, match="feed_bytes"):
        backend.StreamParser().feed_bytes(bad)


@pytest.mark.parametrize(
    ("n", "exc"), [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("1", TypeError)]
)
def test_bad_n_tokens(backend: Any, n: Any, exc: type) -> None:
    with pytest.raises(exc, match="n_tokens"):
        backend.StreamParser().feed("x", n)


@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"reasoning_budget": -1}, ValueError, "reasoning_budget"),
        ({"reasoning_budget": 1.5}, TypeError, "reasoning_budget"),
        ({"reasoning_budget": True}, TypeError, "reasoning_budget"),
        ({"start_in_reasoning": 1}, TypeError, "start_in_reasoning"),
        ({"tool_calls_in_reasoning": "yes"}, TypeError, "tool_calls_in_reasoning"),
        ({"budget_close_text": None}, TypeError, "budget_close_text"),
        ({"tools": "not a list"}, TypeError, "tools"),
        ({"tools": ["not a dict"]}, TypeError, "tools"),
        ({"keep_message": None}, TypeError, "keep_message"),
    ],
)
def test_bad_options(backend: Any, kwargs: dict[str, Any], exc: type, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        backend.StreamParser(**kwargs)


def test_failed_feed_leaves_parser_usable(backend: Any) -> None:
    p = backend.StreamParser()
    with pytest.raises(TypeError):
        p.feed(1)
    assert p.feed("<think>a").reasoning == "a"


def test_parse_accepts_str_and_bytes(backend: Any) -> None:
    assert backend.parse("<think>a</think>b").content == "b"
    assert backend.parse(b"<think>a</think>b\xff").content == "b\ufffd"
