"""Native == reference: identical deltas and messages for generated streams, chunkings and options."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import hermes_stream as hs
from helpers import run
from strategies import byte_streams, chunked, options, texts


def both(chunks: list[Any], n_tokens: list[int] | None, opts: dict[str, Any]) -> None:
    native = run(hs.StreamParser, chunks, n_tokens=n_tokens, **opts)
    reference = run(hs.reference.StreamParser, chunks, n_tokens=n_tokens, **opts)
    assert native == reference


@given(chunked(texts), options, st.data())
def test_text_streams(case: tuple, opts: dict[str, Any], data: st.DataObject) -> None:
    _, chunks = case
    n_tokens = data.draw(st.lists(st.integers(0, 4), min_size=len(chunks), max_size=len(chunks)))
    both(chunks, n_tokens, opts)


@given(chunked(byte_streams), options)
def test_byte_streams(case: tuple, opts: dict[str, Any]) -> None:
    _, chunks = case
    both(chunks, None, opts)


@given(texts, options)
def test_one_token_per_char(text: str, opts: dict[str, Any]) -> None:
    both(list(text), None, opts)


@given(st.lists(st.text(max_size=3) | st.binary(max_size=3), max_size=30), options)
def test_mixed_str_and_bytes_feeds(chunks: list[Any], opts: dict[str, Any]) -> None:
    both(chunks, None, opts)


@given(chunked(texts), st.integers(0, 5), st.text(max_size=12))
def test_custom_close_text(case: tuple, budget: int, close: str) -> None:
    _, chunks = case
    both(chunks, None, {"reasoning_budget": budget, "budget_close_text": close})


@given(chunked(texts), options)
def test_keep_message_false(case: tuple, opts: dict[str, Any]) -> None:
    _, chunks = case
    both(chunks, None, {**opts, "keep_message": False})
