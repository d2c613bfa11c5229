"""Hypothesis strategies for Hermes-style output streams and their chunkings."""

from __future__ import annotations

from hypothesis import strategies as st

# Fragments chosen so that tags, partial tags, look-alikes and multi-byte text collide often.
FRAGMENTS = [
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<", "</", "<th", "</th", "<think",
    "</think", "think>", ">", "<<", "a", "b", " ", "\n", "\t", "é", "中", "😀", "{", "}", '"',
    "\\", "<thinking>", "</thinker>", "x<", "\r\n",
]

fragments = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40)
texts = fragments.map("".join)

# Raw model bytes: valid text mixed with ill-formed UTF-8.
BAD_BYTES = [b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f", b"\xed\xa0\x80", b"\x80", b"\xc0\xaf"]
byte_streams = st.lists(
    st.sampled_from(FRAGMENTS).map(str.encode) | st.sampled_from(BAD_BYTES) | st.binary(max_size=3),
    max_size=30,
).map(b"".join)


@st.composite
def chunked(draw: st.DrawFn, data_strategy: st.SearchStrategy) -> tuple:
    """(data, chunks): ``data`` split at random points (empty chunks allowed)."""
    data = draw(data_strategy)
    cuts = draw(st.lists(st.integers(0, max(len(data), 0)), max_size=12))
    points = sorted(cuts)
    chunks, prev = [], 0
    for c in points + [len(data)]:
        chunks.append(data[prev:c])
        prev = c
    return data, chunks


options = st.fixed_dictionaries(
    {
        "reasoning_budget": st.none() | st.integers(0, 12),
        "start_in_reasoning": st.booleans(),
    }
)
