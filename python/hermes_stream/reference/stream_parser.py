"""Reference streaming parser: the executable specification of ``hs.StreamParser``.

Readable rather than fast; the native parser (``cpp/hermes_stream/stream_parser.cc``) must give
identical results on every input and every chunking. State:

* ``region``: ``"content"`` or ``"reasoning"``;
* ``after_forced``: a forced close happened and only whitespace followed, so a model ``</think>``
  is absorbed as a ``tag`` segment;
* ``held``: the tail of the decoded text that is a proper prefix of a live tag (at most a few
  characters), plus any incomplete UTF-8 sequence inside the decoder.

Budget (SPEC rule 13), text mode: a delta's ``n_tokens`` count as reasoning when the parser is
inside reasoning at the delta's first byte. The parser forces a close when it is inside reasoning
with ``reasoning_tokens >= budget`` at one of three points: when reasoning is entered (``<think>``
or the start of a prompt-opened stream), and at the end of a delta.
"""

from __future__ import annotations

from .._options import DEFAULT_BUDGET, DEFAULT_CLOSE_TEXT, check_n_tokens, validate_options
from .._types import Delta, ForcedClose, Message, Segment, ToolCall
from .tags import THINK_CLOSE, THINK_OPEN, WHITESPACE, match_tag
from .utf8 import Utf8Decoder

CONTENT = "content"
REASONING = "reasoning"

_MERGEABLE = (CONTENT, REASONING)


class StreamParser:
    """Pure-Python streaming parser with the public API of ``hs.StreamParser``."""

    def __init__(
        self,
        tools: list[dict[str, object]] | None = None,
        reasoning_budget: int | None = DEFAULT_BUDGET,
        start_in_reasoning: bool = False,
        tool_calls_in_reasoning: bool = False,
        budget_close_text: str = DEFAULT_CLOSE_TEXT,
        vocab: object = None,
        keep_message: bool = True,
    ) -> None:
        self._opts = validate_options(
            tools,
            reasoning_budget,
            start_in_reasoning,
            tool_calls_in_reasoning,
            budget_close_text,
            vocab,
            keep_message,
        )
        self._region = REASONING if start_in_reasoning else CONTENT
        self._after_forced = False
        self._held = ""
        self._decoder = Utf8Decoder()
        self._finished = False
        self._started = False
        self._reasoning_tokens = 0
        self._budget_exceeded = False
        # (kind, parts): adjacent reasoning/content text grows in place; joined on demand.
        self._segments: list[tuple[str, list[str]]] = []
        self._tool_calls: list[ToolCall] = []
        # Per-delta output, reset by _begin().
        self._d_reasoning: list[str] = []
        self._d_content: list[str] = []
        self._d_forced: list[str] = []

    # ----------------------------------------------------------------------- public API
    def feed(self, text: str, n_tokens: int = 1) -> Delta:
        if not isinstance(text, str):
            raise TypeError(f"feed() takes a str, got {type(text).__name__}; use feed_bytes() for bytes")
        return self._feed(text.encode("utf-8", "surrogatepass"), n_tokens)

    def feed_bytes(self, data: bytes | bytearray | memoryview, n_tokens: int = 1) -> Delta:
        if isinstance(data, str) or not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"feed_bytes() takes bytes, got {type(data).__name__}")
        return self._feed(bytes(data), n_tokens)

    def finish(self) -> Delta:
        self._check_open("finish")
        self._begin()
        if self._held:
            self._emit_text(self._held)
            self._held = ""
        tail = self._decoder.flush()
        if tail:
            self._emit_text(tail)
        self._finished = True
        return self._end()

    @property
    def message(self) -> Message:
        segments = [Segment(kind, "".join(parts)) for kind, parts in self._segments]
        return Message(
            reasoning="".join(s.text for s in segments if s.kind == REASONING),
            content="".join(s.text for s in segments if s.kind == CONTENT),
            tool_calls=list(self._tool_calls),
            reasoning_tokens=self._reasoning_tokens,
            budget_exceeded=self._budget_exceeded,
            segments=segments,
        )

    @property
    def finished(self) -> bool:
        return self._finished

    # ----------------------------------------------------------------------- internals
    def _check_open(self, what: str) -> None:
        if self._finished:
            raise RuntimeError(f"{what}() called after finish(); create a new StreamParser")

    def _feed(self, data: bytes, n_tokens: int) -> Delta:
        self._check_open("feed")
        n_tokens = check_n_tokens(n_tokens)
        self._begin()
        if self._region == REASONING:
            self._reasoning_tokens += n_tokens
        self._scan(self._decoder.feed(data))
        self._maybe_force(end_of_delta=True)
        return self._end()

    def _begin(self) -> None:
        self._d_reasoning, self._d_content, self._d_forced = [], [], []
        if not self._started:
            self._started = True
            self._maybe_force(end_of_delta=False)  # prompt-opened thinking with budget 0

    def _end(self) -> Delta:
        forced = ForcedClose("".join(self._d_forced)) if self._d_forced else None
        return Delta("".join(self._d_reasoning), "".join(self._d_content), [], forced)

    def _live_tags(self) -> tuple[str, ...]:
        if self._region == REASONING:
            return (THINK_CLOSE,)
        if self._after_forced:
            return (THINK_OPEN, THINK_CLOSE)
        return (THINK_OPEN,)

    def _scan(self, text: str) -> None:
        buf = self._held + text
        self._held = ""
        pos, n = 0, len(buf)
        while pos < n:
            lt = buf.find("<", pos)
            if lt < 0:
                self._emit_text(buf[pos:])
                return
            if lt > pos:
                self._emit_text(buf[pos:lt])
            tag, partial = match_tag(buf, lt, self._live_tags())
            if tag is not None:
                self._on_tag(tag)
                pos = lt + len(tag)
            elif partial:
                self._held = buf[lt:]
                return
            else:
                self._emit_text("<")
                pos = lt + 1

    def _on_tag(self, tag: str) -> None:
        self._add_segment("tag", tag)
        if self._region == REASONING:  # the only live tag in reasoning is </think>
            self._region = CONTENT
        elif tag == THINK_OPEN:
            self._region = REASONING
            self._after_forced = False
            self._maybe_force(end_of_delta=False)
        else:  # </think> right after a forced close: absorbed
            self._after_forced = False

    def _emit_text(self, text: str) -> None:
        if self._region == REASONING:
            self._d_reasoning.append(text)
        else:
            self._d_content.append(text)
            if self._after_forced and not all(ch in WHITESPACE for ch in text):
                self._after_forced = False
        self._add_segment(self._region, text)

    def _add_segment(self, kind: str, text: str) -> None:
        if not self._opts.keep_message:
            return
        if kind in _MERGEABLE and self._segments and self._segments[-1][0] == kind:
            self._segments[-1][1].append(text)
        else:
            self._segments.append((kind, [text]))

    def _maybe_force(self, *, end_of_delta: bool) -> None:
        budget = self._opts.reasoning_budget
        if budget is None or self._region != REASONING or self._reasoning_tokens < budget:
            return
        if end_of_delta:  # the model's output stops here: release what was held as reasoning
            held = self._held + self._decoder.flush()
            self._held = ""
            if held:
                self._emit_text(held)
        close = self._opts.budget_close_text
        self._add_segment("forced", close)
        self._d_forced.append(close)
        self._budget_exceeded = True
        self._region = CONTENT
        self._after_forced = True


def parse(
    text: str | bytes,
    *,
    n_tokens: int = 1,
    **options: object,
) -> Message:
    """One-shot parse: identical to feeding ``text`` as one delta, then ``finish()``."""
    parser = StreamParser(**options)  # type: ignore[arg-type]
    if isinstance(text, str):
        parser.feed(text, n_tokens)
    else:
        parser.feed_bytes(text, n_tokens)
    parser.finish()
    return parser.message

