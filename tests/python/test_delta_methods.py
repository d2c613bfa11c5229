"""The native ``Delta``'s own ``repr``, ``==`` and ``to_openai()`` (``src/delta_type.cc``) give the
same results as the reference ``Delta``'s Python methods (``_types.delta_repr``, ``delta_eq``,
``delta_to_openai``), on the deltas of generated parses: tool calls, forced closes and loops."""

from __future__ import annotations

import types
from typing import Any, ClassVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_stream as hs
from hermes_stream import _types
from strategies import chunked, tool_streams

TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
STREAMS = tool_streams() | st.sampled_from(["<think>" + "ab" * 40 + "</think>x", "<think>" + "z" * 90])
PARSE_OPTIONS = st.fixed_dictionaries({
    "reasoning_budget": st.none() | st.integers(0, 30),
    "start_in_reasoning": st.booleans(),
    "tools": st.none() | st.just(TOOLS),
    "loop_guard": st.none() | st.just(hs.LoopGuard(min_repeats=3, max_period=4, min_span=8)),
})


def deltas(parser_class: Any, chunks: list[str], opts: dict[str, Any]) -> list[Any]:
    p = parser_class(id_factory=lambda i: f"call_{i}", **opts)
    out = [p.feed(c) for c in chunks]
    out.append(p.finish())
    return out


def copy(d: Any, **change: Any) -> Any:
    fields = {f: getattr(d, f) for f in ("reasoning", "content", "tool_calls", "forced", "loop")}
    return fields | change


def check_same(native: Any, reference: Any) -> None:
    assert type(native) is hs.Delta and type(reference) is hs.reference.Delta
    assert repr(native) == repr(reference) == _types.delta_repr(native)
    assert native.to_openai() == reference.to_openai() == _types.delta_to_openai(native)
    assert list(native.to_openai().items()) == list(reference.to_openai().items())  # key order
    for a, b in ((native, reference), (reference, native), (native, hs.Delta(**copy(native)))):
        assert a == b and not a != b
    assert _types.delta_eq(native, reference) is True


@given(chunked(STREAMS), PARSE_OPTIONS)
def test_native_delta_methods_equal_reference(case: tuple[str, list[str]], opts: dict[str, Any]) -> None:
    _, chunks = case
    native = deltas(hs.StreamParser, chunks, opts)
    reference = deltas(hs.reference.StreamParser, chunks, opts)
    assert len(native) == len(reference)
    for n, r in zip(native, reference):
        check_same(n, r)


@given(chunked(STREAMS), PARSE_OPTIONS, st.data())
def test_native_inequality_matches_delta_eq(case: tuple[str, list[str]], opts: dict[str, Any],
                                            data: st.DataObject) -> None:
    _, chunks = case
    native = deltas(hs.StreamParser, chunks, opts)
    a = data.draw(st.sampled_from(native))
    b = data.draw(st.sampled_from(native))
    for x, y in ((a, b), (a, hs.reference.Delta(**copy(b))), (hs.reference.Delta(**copy(a)), b)):
        expected = _types.delta_eq(x, y)
        assert (x == y) is expected and (x != y) is (not expected)
    changed = data.draw(st.sampled_from([
        {"reasoning": a.reasoning + "x"},
        {"content": a.content + "x"},
        {"tool_calls": [*a.tool_calls, hs.ToolCallDelta(9, None, None, "}")]},
        {"forced": hs.ForcedClose("x") if a.forced is None else None},
        {"loop": hs.LoopInfo(1, 3, 0, 3, "bytes") if a.loop is None else None},
    ]))
    for other in (hs.Delta(**copy(a, **changed)), hs.reference.Delta(**copy(a, **changed))):
        assert a != other and not a == other and other != a
        assert _types.delta_eq(a, other) is False


def test_delta_unhashable_and_other_operands() -> None:
    d = hs.Delta("r", "c")
    assert hs.Delta.__hash__ is None
    with pytest.raises(TypeError):
        hash(d)
    with pytest.raises(TypeError):
        d < d  # noqa: B015 - only == and != are defined
    assert d != 1 and not d == "r" and d != None  # noqa: E711 - no fields: NotImplemented
    # Any object with the four fields compares by value; a missing `loop` counts as None.
    like = types.SimpleNamespace(reasoning="r", content="c", tool_calls=[], forced=None)
    assert d == like and like == d and _types.delta_eq(d, like) is True
    assert d != types.SimpleNamespace(reasoning="r", content="c", tool_calls=[], forced=None,
                                      loop=hs.LoopInfo(1, 3, 0, 3, "bytes"))


def test_attribute_errors_other_than_missing_propagate() -> None:
    class Broken:
        reasoning = content = ""
        tool_calls: ClassVar[list[Any]] = []

        @property
        def forced(self) -> None:
            raise KeyError("boom")

    with pytest.raises(KeyError):
        _ = hs.Delta() == Broken()
    with pytest.raises(KeyError):
        _types.delta_eq(hs.Delta(), Broken())


def test_to_openai_returns_new_objects() -> None:
    call = hs.ToolCallDelta(0, "call_0", "f", "{")
    d = hs.Delta("r", "c", [call])
    first = d.to_openai()
    first["tool_calls"][0]["function"]["name"] = "g"
    first.clear()
    assert d.to_openai() == {
        "reasoning_content": "r", "content": "c",
        "tool_calls": [{"index": 0, "id": "call_0", "type": "function",
                        "function": {"name": "f", "arguments": "{"}}],
    }
