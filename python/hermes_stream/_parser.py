"""Native ``StreamParser`` facade: option checks and ``message`` in Python, the hot path in C++.

``feed``, ``feed_bytes`` and ``finish`` are the C++ methods themselves (inherited, not wrapped),
so a delta costs one native call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from . import _core
from ._call_records import finalize
from ._options import (
    DEFAULT_BUDGET,
    DEFAULT_CLOSE_TEXT,
    DEFAULT_MAX_JSON_DEPTH,
    LoopGuard,
    ParserOptions,
    close_ids,
    loop_guard_args,
    validate_options,
)
from ._schema import ToolSet
from ._types import ForcedClose, LoopInfo, Message, Segment
from .reference.stream_parser import NO_PICKLE

_core.set_types(ForcedClose)
_core.set_loop_type(LoopInfo)


class StreamParser(_core.NativeStreamParser):
    """Streaming parser for Hermes 4 output (native backend).

    Args:
        tools: OpenAI-style tool list (name and argument-schema checks).
        reasoning_budget: reasoning tokens before a forced close; ``None`` for unlimited.
        start_in_reasoning: the prompt already opened ``<think>``.
        tool_calls_in_reasoning: ``<tool_call>`` inside ``<think>`` ends reasoning.
        budget_close_text: what the server appends when the budget is hit.
        vocab: ``hs.Vocab`` for ``feed_tokens()``.
        keep_message: ``False`` keeps no text (deltas only): memory stays constant however long
            the stream; ``message`` then has counters but no text, segments or calls.
        id_factory: ``index -> id`` for tool calls (tests); default ``call_`` + 24 random
            alphanumerics.
        max_json_depth: nesting limit of a tool-call body; deeper is an error, never a crash.
        loop_guard: ``hs.LoopGuard(...)`` to detect (and with ``on_loop="close"`` end) a
            reasoning trace stuck repeating itself; ``None`` (default) for none.
    """

    def __init__(
        self,
        tools: list[dict[str, Any]] | ToolSet | None = None,
        reasoning_budget: int | None = DEFAULT_BUDGET,
        start_in_reasoning: bool = False,
        tool_calls_in_reasoning: bool = False,
        budget_close_text: str = DEFAULT_CLOSE_TEXT,
        vocab: Any = None,
        keep_message: bool = True,
        id_factory: Callable[[int], str] | None = None,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        loop_guard: LoopGuard | None = None,
    ) -> None:
        opts = validate_options(
            tools,
            reasoning_budget,
            start_in_reasoning,
            tool_calls_in_reasoning,
            budget_close_text,
            vocab,
            keep_message,
            id_factory,
            max_json_depth,
            loop_guard,
        )
        self._start(opts, close_ids(opts))

    def _start(self, opts: ParserOptions, close: list[int]) -> None:
        """Initialise the native parser from checked options (``BatchParser`` reuses them)."""
        super().__init__(
            -1 if opts.reasoning_budget is None else opts.reasoning_budget,
            opts.start_in_reasoning,
            opts.tool_calls_in_reasoning,
            opts.budget_close_text,
            opts.keep_message,
            None if opts.tools is None else opts.tools.names,  # the core sorts them
            opts.id_factory,
            opts.max_json_depth,
            None if opts.vocab is None else opts.vocab._native_handle(),
            close,
            loop_guard_args(opts),
        )
        self._opts = opts

    @classmethod
    def _from_options(cls, opts: ParserOptions, close: list[int]) -> StreamParser:
        """A parser from options ``validate_options`` already checked, and their close ids."""
        parser = cls.__new__(cls)
        parser._start(opts, close)
        return parser

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(NO_PICKLE)  # the same refusal as the reference (pickle, copy, deepcopy)

    @property
    def message(self) -> Message:
        """Everything parsed so far (final after ``finish()``)."""
        segments = [Segment(kind, text) for kind, text in self._segments()]
        # str.join of a single str returns that same object: one reasoning segment is decoded
        # once and shared with Message.reasoning.
        return Message(
            reasoning="".join([s.text for s in segments if s.kind == "reasoning"]),
            content="".join([s.text for s in segments if s.kind == "content"]),
            tool_calls=[finalize(*c, self._opts.tools) for c in self._calls()],
            reasoning_tokens=self.reasoning_tokens,
            budget_exceeded=self.budget_exceeded,
            segments=segments,
            loops=self._loops(),
            loop_closed=self.loop_closed,
        )


def parse(text: str | bytes, *, n_tokens: int = 1, **options: Any) -> Message:
    """One-shot parse: identical to feeding ``text`` as one delta, then ``finish()``."""
    parser = StreamParser(**options)
    if not isinstance(text, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"parse() takes str or bytes, got {type(text).__name__}")
    parser._feed_all_quiet(text, n_tokens)  # no Delta objects: nothing is decoded twice
    return parser.message
