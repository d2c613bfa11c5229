"""Plain value types shared by both backends (pure Python, no native import).

The native backend returns its own C-level ``Delta`` and ``ToolCallDelta`` types (raw CPython
types, see ``src/delta_type.cc``) for speed; the ``Delta`` and ``ToolCallDelta`` below are the
reference backend's, with the same fields and behaviour (the native ``Delta`` implements
``delta_repr``, ``delta_eq`` and ``delta_to_openai`` in C with the same results). Every other
value (``Message``, ``Segment``, ``ToolCall``, ``ForcedClose``, ``LoopInfo``) is one of the
classes below, whichever backend produced it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

__all__ = [
    "Delta",
    "DeltaLike",
    "ForcedClose",
    "LoopInfo",
    "Message",
    "Segment",
    "ToolCall",
    "ToolCallDelta",
    "delta_to_openai",
    "message_to_dict",
]

SEGMENT_KINDS = ("reasoning", "content", "tool_call", "tag", "forced")


@dataclass(frozen=True, slots=True)
class ForcedClose:
    """Text the server must append because the reasoning budget was reached."""

    text: str
    token_ids: list[int] | None = None


@dataclass(frozen=True, slots=True)
class LoopInfo:
    """A repetition the loop guard found at the end of a reasoning trace (``Delta.loop``).

    Offsets count the message's reasoning *units* (``unit``): token ids counted as reasoning
    (``feed_tokens``; ``start`` indexes them, 0 = the first reasoning token) or bytes of
    ``message.reasoning`` in UTF-8 (``feed``/``feed_bytes``). ``message.reasoning.encode()
    [start:end]`` (byte mode) is the repeated text: ``repeats`` full copies of a ``period``-unit
    span, possibly followed by a partial copy. ``end`` is one past the unit that met the rule.
    """

    period: int
    repeats: int
    start: int
    end: int
    unit: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """One streamed fragment of a tool call (OpenAI ``delta.tool_calls[i]``)."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of the stream with one meaning; joined in order they give back the input."""

    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete (or failed) tool call."""

    index: int
    id: str
    name: str
    arguments: str
    error: str | None = None
    raw: str = ""

    @property
    def parsed_arguments(self) -> dict[str, Any]:
        value = json.loads(self.arguments)
        if not isinstance(value, dict):
            raise ValueError("tool call arguments are not a JSON object")
        return value


@dataclass(frozen=True, slots=True)
class Message:
    """Everything parsed so far; final after ``finish()``."""

    reasoning: str = ""
    content: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning_tokens: int = 0
    budget_exceeded: bool = False
    segments: list[Segment] = field(default_factory=list)
    loops: list[LoopInfo] = field(default_factory=list)  # loop guard: at most one per region
    loop_closed: bool = False  # the loop guard forced a close (on_loop="close")

    @property
    def loop_detected(self) -> bool:
        """The loop guard found a loop in some reasoning region."""
        return bool(self.loops)


def message_to_dict(m: Message) -> dict[str, Any]:
    """Every field of ``m`` as plain, JSON-ready data (``dataclasses.asdict``): tool calls,
    segments and loops become dicts with their field names as keys. The one message -> dict
    conversion (the CLI's output, the tests' comparisons)."""
    return asdict(m)


class DeltaLike(Protocol):
    reasoning: str
    content: str
    tool_calls: list[ToolCallDelta]
    forced: ForcedClose | None
    loop: LoopInfo | None


def delta_to_openai(d: DeltaLike) -> dict[str, Any]:
    """The ``delta`` object of an OpenAI chat-completion chunk; keys only when non-empty."""
    out: dict[str, Any] = {}
    if d.reasoning:
        out["reasoning_content"] = d.reasoning
    if d.content:
        out["content"] = d.content
    if d.tool_calls:
        calls = []
        for tc in d.tool_calls:
            entry: dict[str, Any] = {"index": tc.index}
            function: dict[str, Any] = {}
            if tc.id is not None:
                entry["id"] = tc.id
                entry["type"] = "function"
            if tc.name is not None:
                function["name"] = tc.name
            if tc.arguments:
                function["arguments"] = tc.arguments
            if function:
                entry["function"] = function
            calls.append(entry)
        out["tool_calls"] = calls
    return out


def delta_repr(d: DeltaLike) -> str:
    loop = getattr(d, "loop", None)
    return (
        f"Delta(reasoning={d.reasoning!r}, content={d.content!r}, "
        f"tool_calls={d.tool_calls!r}, forced={d.forced!r}"
        + ("" if loop is None else f", loop={loop!r}")
        + ")"
    )


def delta_eq(a: object, b: object) -> bool:
    fields = ("reasoning", "content", "tool_calls", "forced")
    if not all(hasattr(a, f) for f in fields) or not all(hasattr(b, f) for f in fields):
        return NotImplemented  # type: ignore[no-any-return]
    if getattr(a, "loop", None) != getattr(b, "loop", None):
        return False
    return all(getattr(a, f) == getattr(b, f) for f in fields)


class Delta:
    """What one ``feed()`` produced (pure-Python twin of the native ``Delta``)."""

    __slots__ = ("reasoning", "content", "tool_calls", "forced", "loop")

    def __init__(
        self,
        reasoning: str = "",
        content: str = "",
        tool_calls: list[ToolCallDelta] | None = None,
        forced: ForcedClose | None = None,
        loop: LoopInfo | None = None,
    ) -> None:
        self.reasoning = reasoning
        self.content = content
        self.tool_calls = [] if tool_calls is None else tool_calls
        self.forced = forced
        self.loop = loop

    def __bool__(self) -> bool:
        return bool(
            self.reasoning or self.content or self.tool_calls or self.forced or self.loop
        )

    def to_openai(self) -> dict[str, Any]:
        return delta_to_openai(self)

    __repr__ = delta_repr
    __eq__ = delta_eq
    __hash__ = None  # type: ignore[assignment]
