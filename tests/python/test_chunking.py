"""Chunking invariance (SPEC rules 1-4): any split of the same input gives the same message."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from helpers import ALL_TAGS, ends_with_tag_prefix, joined, run, segment_pairs, split_at, texts_only
from strategies import byte_streams, chunked, texts


def check_consistent(deltas: list[Any], m: dict[str, Any], source: str) -> None:
    r, c, forced = joined(deltas)
    assert (r, c) == (m["reasoning"], m["content"])  # concatenated deltas equal the message
    assert "".join(t for _, t in segment_pairs(m) if _ != "forced") == source  # lossless
    assert forced == "".join(t for k, t in segment_pairs(m) if k == "forced")


@given(chunked(texts), st.booleans())
def test_random_chunking_same_message(backend: Any, case: tuple, start: bool) -> None:
    text, chunks = case
    _, whole = run(backend.StreamParser, [text], reasoning_budget=None, start_in_reasoning=start)
    deltas, m = run(backend.StreamParser, chunks, reasoning_budget=None, start_in_reasoning=start)
    assert texts_only(m) == texts_only(whole)
    check_consistent(deltas, m, text)


@given(texts)
def test_one_char_and_one_byte_chunks(backend: Any, text: str) -> None:
    _, whole = run(backend.StreamParser, [text], reasoning_budget=None)
    deltas, by_char = run(backend.StreamParser, list(text), reasoning_budget=None)
    raw = text.encode()
    _, by_byte = run(backend.StreamParser, [raw[i : i + 1] for i in range(len(raw))], reasoning_budget=None)
    assert texts_only(by_char) == texts_only(whole)
    assert texts_only(by_byte) == texts_only(whole)
    check_consistent(deltas, by_char, text)


@given(chunked(byte_streams))
def test_bytes_any_split_matches_python_decoder(backend: Any, case: tuple) -> None:
    data, chunks = case
    deltas, m = run(backend.StreamParser, chunks, reasoning_budget=None)
    _, whole = run(backend.StreamParser, [data], reasoning_budget=None)
    assert texts_only(m) == texts_only(whole)
    check_consistent(deltas, m, data.decode("utf-8", "replace"))


def test_every_two_chunk_split(backend: Any) -> None:
    samples = [
        "pre<think>reason é 😀</think>\n\nanswer <b> </think>",
        "<think>a<think>b</think></think><think></think>x",
        "<<think>></think><tool_call>{}</tool_call>",
    ]
    for text in samples:
        _, whole = run(backend.StreamParser, [text], reasoning_budget=None)
        raw = text.encode()
        for i in range(len(raw) + 1):
            _, m = run(backend.StreamParser, [raw[:i], raw[i:]], reasoning_budget=None)
            assert texts_only(m) == texts_only(whole), (text, i)
        for i in range(len(text) + 1):
            _, m = run(backend.StreamParser, [text[:i], text[i:]], reasoning_budget=None)
            assert texts_only(m) == texts_only(whole), (text, i)


@given(texts, st.booleans())
def test_minimal_holdback(backend: Any, text: str, start: bool) -> None:
    """Everything fed so far is out unless a suffix could still start a tag (or a call body is
    waiting for its name: that case is covered in test_tool_calls.py)."""
    p = backend.StreamParser(reasoning_budget=None, start_in_reasoning=start)
    fed = ""
    for ch in text:
        p.feed(ch)
        fed += ch
        out = "".join(s.text for s in p.message.segments)
        assert fed.startswith(out)
        if "<tool_call>" in fed:
            continue
        if not ends_with_tag_prefix(fed, ALL_TAGS):
            assert out == fed
        else:
            assert len(fed) - len(out) < len("<tool_call>")


def test_split_points_inside_tags(backend: Any) -> None:
    text = "a<think>b</think>c"
    for cut in range(len(text) + 1):
        for cut2 in range(cut, len(text) + 1):
            _, m = run(backend.StreamParser, split_at(text, [cut, cut2]), reasoning_budget=None)
            assert (m["reasoning"], m["content"]) == ("b", "ac")


@given(texts, st.booleans())
def test_parse_equals_streaming(backend: Any, text: str, start: bool) -> None:
    _, streamed = run(backend.StreamParser, list(text), reasoning_budget=None, start_in_reasoning=start)
    parsed = backend.parse(text, reasoning_budget=None, start_in_reasoning=start)
    assert [(s.kind, s.text) for s in parsed.segments] == segment_pairs(streamed)
    assert (parsed.reasoning, parsed.content) == (streamed["reasoning"], streamed["content"])
