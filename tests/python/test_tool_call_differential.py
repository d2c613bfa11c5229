"""Native == reference on generated tool-call streams, under random chunkings (SPEC rules 2, 3, 8–12)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import hermes_stream as hs
from helpers import run, segment_pairs, split_at, texts_only
from strategies import call_bodies, chunked, tool_streams

IDS = {"id_factory": lambda i: f"call_{i}", "reasoning_budget": None}
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": []}}},
    {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
]


def _streamed_arguments(deltas: list[tuple[Any, ...]]) -> dict[int, str]:
    out: dict[int, str] = {}
    for d in deltas:
        for index, _id, _name, args in d[2]:
            out[index] = out.get(index, "") + args
    return out


def _check_invariants(text: str, deltas: list[tuple[Any, ...]], m: dict[str, Any]) -> None:
    assert "".join(t for _, t in segment_pairs(m)) == text  # lossless (no budget here)
    streamed = _streamed_arguments(deltas)
    firsts = [c for d in deltas for c in d[2] if c[1] is not None]
    assert [c[0] for c in firsts] == sorted({c[0] for c in firsts})  # each call announced once
    for call in m["tool_calls"]:
        if call["error"] is None or not call["error"].startswith("unknown tool"):
            assert streamed.get(call["index"], "") == call["arguments"], call["index"]


@given(chunked(tool_streams()), st.booleans())
def test_native_equals_reference_on_tool_streams(case: tuple[str, list[str]], in_reasoning: bool) -> None:
    text, chunks = case
    opts = dict(IDS, tool_calls_in_reasoning=in_reasoning)
    native = run(hs.StreamParser, chunks, **opts)
    reference = run(hs.reference.StreamParser, chunks, **opts)
    assert native == reference
    _check_invariants(text, *native)


@given(tool_streams())
def test_chunking_invariance_on_tool_streams(text: str) -> None:
    _, whole = run(hs.StreamParser, [text], **IDS)
    for chunks in (list(text), [c.encode() for c in text]):
        deltas, m = run(hs.StreamParser, chunks, **IDS)
        assert texts_only(m) == texts_only(whole)
        _check_invariants(text, deltas, m)


@given(chunked(tool_streams().map(str.encode)))
def test_bytes_split_inside_sequences(case: tuple[bytes, list[bytes]]) -> None:
    _, chunks = case
    assert run(hs.StreamParser, chunks, **IDS) == run(hs.reference.StreamParser, chunks, **IDS)


@given(call_bodies())
def test_every_two_chunk_split_of_a_call(body: str) -> None:
    text = "a<tool_call>" + body + "</tool_call>b<tool_call>" + body + "</tool_call>"
    _, whole = run(hs.StreamParser, [text], **IDS)
    assert run(hs.reference.StreamParser, [text], **IDS)[1] == whole
    for cut in range(len(text) + 1):
        deltas, m = run(hs.StreamParser, split_at(text, [cut]), **IDS)
        assert texts_only(m) == texts_only(whole), cut
        _check_invariants(text, deltas, m)


@given(chunked(tool_streams()))
def test_with_tools_native_equals_reference(case: tuple[str, list[str]]) -> None:
    _, chunks = case
    opts = dict(IDS, tools=TOOLS)
    assert run(hs.StreamParser, chunks, **opts) == run(hs.reference.StreamParser, chunks, **opts)
