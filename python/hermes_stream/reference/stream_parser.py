"""Reference streaming parser: the executable specification of ``hs.StreamParser``.

Readable rather than fast; the native parser (``cpp/hermes_stream/stream_parser.cc``) must give
identical results on every input and every chunking. State:

* ``region``: ``"content"`` or ``"reasoning"``;
* ``after_forced``: a forced close happened and only whitespace followed, so a model ``</think>``
  is absorbed as a ``tag`` segment;
* ``held``: the tail of the decoded text that is a proper prefix of a live tag (at most a few
  characters), plus any incomplete UTF-8 sequence inside the decoder.

Loop guard (``loop_guard=hs.LoopGuard(...)``): each reasoning region (from ``<think>`` or the
start of a prompt-opened stream to its close) is watched on its own by a
:class:`~.loop_guard.LoopDetector`. Units are token ids with ``feed_tokens`` (an id is a unit when
it counts as a reasoning token) and bytes of reasoning text (UTF-8 of what becomes
``message.reasoning``) with ``feed``/``feed_bytes``; one parser uses one kind. A detection sets the
delta's ``loop``; with ``on_loop="close"`` the close is forced at the end of that piece (the
token, or the whole delta in byte mode), unless the region already ended or the budget forced it.

Budget (SPEC rule 13), text mode: a delta's ``n_tokens`` count as reasoning when the parser is
inside reasoning at the delta's first byte. The parser forces a close when it is inside reasoning
with ``reasoning_tokens >= budget`` at one of three points: when reasoning is entered (``<think>``
or the start of a prompt-opened stream), and at the end of a delta.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, NoReturn

from .._call_records import CallRecord, build_tool_calls, new_call_id
from .._options import (
    DEFAULT_BUDGET,
    DEFAULT_CLOSE_TEXT,
    DEFAULT_MAX_JSON_DEPTH,
    MAX_TOKENS,
    LoopGuard,
    check_call_id,
    check_n_tokens,
    close_ids,
    validate_options,
)
from .._types import Delta, ForcedClose, LoopInfo, Message, Segment, ToolCallDelta
from .loop_guard import LoopDetector
from .tags import THINK_CLOSE, THINK_OPEN, TOOL_CALL_CLOSE, TOOL_CALL_OPEN, WHITESPACE, match_tag
from .tool_call import CLOSED, COMMIT, FAIL, CallMachine
from .utf8 import Utf8Sanitizer

CONTENT = "content"
REASONING = "reasoning"
CALL = "tool_call"  # inside a <tool_call> block

# Modes of a call block.
JSON = 0  # the body is being validated as JSON
AFTER = 1  # the root object closed: whitespace, then </tool_call>
RAW = 2  # the call failed after its name: text up to </tool_call> is raw

_MERGEABLE = (CONTENT, REASONING, CALL)

E_TRUNCATED = "truncated"

IN_USE = (
    "StreamParser is in use by another call: concurrent use from another thread, or a "
    "re-entrant call (from an id_factory, a token generator or a __del__); a parser serves one "
    "call at a time"
)
INIT_IN_USE = (
    "StreamParser.__init__() called while the parser is in use (from its id_factory, or from "
    "another thread); create a new StreamParser instead"
)
NO_PICKLE = (
    "cannot pickle or copy a StreamParser: its state is tied to one live stream; "
    "create a new StreamParser (or keep its message)"
)


def _in_use() -> NoReturn:
    raise RuntimeError(IN_USE)


def _exclusive(method: Callable[..., Any]) -> Callable[..., Any]:
    """One call at a time per parser, as the native backend: concurrent or re-entrant calls raise
    ``RuntimeError`` (the lock is only ever tried, never waited for)."""

    def wrapper(self: StreamParser, *args: Any, **kwargs: Any) -> Any:
        lock = self._lock
        if not lock.acquire(blocking=False):
            _in_use()
        try:
            return method(self, *args, **kwargs)
        finally:
            lock.release()

    wrapper.__name__ = method.__name__
    wrapper.__qualname__ = method.__qualname__
    wrapper.__doc__ = method.__doc__
    return wrapper


class StreamParser:
    """Pure-Python streaming parser with the public API of ``hs.StreamParser``."""

    def __init__(
        self,
        tools: Any = None,
        reasoning_budget: int | None = DEFAULT_BUDGET,
        start_in_reasoning: bool = False,
        tool_calls_in_reasoning: bool = False,
        budget_close_text: str = DEFAULT_CLOSE_TEXT,
        vocab: object = None,
        keep_message: bool = True,
        id_factory: Callable[[int], str] | None = None,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        loop_guard: LoopGuard | None = None,
    ) -> None:
        old_lock = getattr(self, "_lock", None)  # re-initialisation: held until the end
        if old_lock is not None and not old_lock.acquire(blocking=False):
            raise RuntimeError(INIT_IN_USE)
        try:
            self._init(
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
            self._lock = threading.Lock()
        finally:
            if old_lock is not None:
                old_lock.release()

    def _init(
        self,
        tools: Any,
        reasoning_budget: int | None,
        start_in_reasoning: bool,
        tool_calls_in_reasoning: bool,
        budget_close_text: str,
        vocab: object,
        keep_message: bool,
        id_factory: Callable[[int], str] | None,
        max_json_depth: int,
        loop_guard: LoopGuard | None,
    ) -> None:
        self._opts = validate_options(
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
        self._region = REASONING if start_in_reasoning else CONTENT
        self._close_ids = close_ids(self._opts)
        self._after_forced = False
        self._reasoning_start = start_in_reasoning  # only whitespace since reasoning began
        self._held = ""
        self._utf8 = Utf8Sanitizer()
        self._finished = False
        self._broken = False  # id_factory raised mid-feed
        self._eot = False  # an end-of-turn id ended the message
        self._finish_called = False
        self._started = False
        self._reasoning_tokens = 0
        self._budget_exceeded = False
        # (kind, parts): adjacent reasoning/content text grows in place; joined on demand.
        self._segments: list[tuple[str, list[str]]] = []
        # The current call block.
        self._call: CallMachine | None = None
        self._mode = JSON
        self._call_region = CONTENT  # region the <tool_call> tag appeared in
        self._pend: list[str] = []  # body text before the call is committed
        self._pend_args: list[str] = []  # arguments that came before the name
        self._body_bytes = 0  # UTF-8 length of the body so far
        self._record: CallRecord | None = None
        self._records: list[CallRecord] = []
        self._n_calls = 0
        self._suppressed = False  # unknown tool: the call's deltas are not sent
        # Per-delta output, reset by _begin().
        self._d_reasoning: list[str] = []
        self._d_content: list[str] = []
        self._d_forced: list[str] = []
        self._d_calls: list[list[Any]] = []  # [index, id, name, [argument parts]]
        # Loop guard.
        self._loop: LoopDetector | None = None  # made at the first feed, once the unit is known
        self._loop_unit = ""  # "tokens" | "bytes"
        self._loop_units = 0  # reasoning units of the message so far
        self._loop_base = 0  # _loop_units when the current region began
        self._loop_hit = False  # a detection in this piece, not yet acted on
        self._loops: list[LoopInfo] = []
        self._loop_closed = False
        self._d_loop: LoopInfo | None = None

    # ----------------------------------------------------------------------- public API
    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError(NO_PICKLE)

    @_exclusive
    def feed(self, text: str, n_tokens: int = 1) -> Delta:
        if not isinstance(text, str):
            raise TypeError(f"feed() takes a str, got {type(text).__name__}; use feed_bytes() for bytes")
        return self._feed(text.encode("utf-8", "surrogatepass"), n_tokens)

    @_exclusive
    def feed_bytes(self, data: bytes | bytearray | memoryview, n_tokens: int = 1) -> Delta:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(
                f"feed_bytes() takes bytes, bytearray or memoryview, got {type(data).__name__}"
            )
        return self._feed(bytes(data), n_tokens)

    @_exclusive
    def feed_tokens(self, ids: Any) -> Delta:
        """Feed token ids (needs ``vocab``); each id is checked before anything is consumed."""
        self._check_open("feed_tokens")
        vocab = self._opts.vocab
        if vocab is None:
            raise RuntimeError("feed_tokens() needs a vocab: StreamParser(vocab=...)")
        if isinstance(ids, (str, bytes)):
            raise TypeError(f"feed_tokens() takes token ids, got {type(ids).__name__}")
        id_list = [ids] if isinstance(ids, int) and not isinstance(ids, bool) else list(ids)
        pieces = []
        for i in id_list:
            if isinstance(i, bool) or not isinstance(i, int):
                raise TypeError(f"token ids must be ints, got {type(i).__name__}")
            pieces.append(vocab.token_bytes(i))  # ValueError for an unknown id
        self._select_loop_unit("tokens")
        self._begin()
        for i, piece in zip(id_list, pieces):
            if i in vocab.eot_ids:
                self._end_message()
                self._eot = True
                break
            self._feed_piece(piece, 1, i)
        return self._end()

    @_exclusive
    def finish(self) -> Delta:
        if self._eot and not self._finish_called:  # an end-of-turn id already ended the message
            self._finish_called = True
            self._begin()
            return self._end()
        self._check_open("finish")
        self._finish_called = True
        self._begin()
        self._end_message()
        return self._end()

    def _end_message(self) -> None:
        tail = self._utf8.flush()
        if tail:
            self._scan(tail)
        # A call whose name never closed was not a call: its text is parsed again, which may
        # open another uncommitted call, so repeat.
        while self._region == CALL and self._mode == JSON and not self._committed():
            self._scan(self._fallback())
        held, self._held = self._held, ""
        if self._region == CALL:
            if self._mode == AFTER:  # a partial </tool_call> after a complete object
                if held:
                    self._body(held)
                held = ""
            elif self._mode == JSON:
                self._fail_call(E_TRUNCATED)
        if held:
            self._emit_text(held)
        if self._region == CALL:
            self._end_call()
        self._finished = True

    @property
    def message(self) -> Message:
        if self._lock.locked():
            _in_use()
        segments = [Segment(kind, "".join(parts)) for kind, parts in self._segments]
        return Message(
            reasoning="".join(s.text for s in segments if s.kind == REASONING),
            content="".join(s.text for s in segments if s.kind == CONTENT),
            tool_calls=build_tool_calls(self._records, self._opts.tools),
            reasoning_tokens=self._reasoning_tokens,
            budget_exceeded=self._budget_exceeded,
            segments=segments,
            loops=list(self._loops),
            loop_closed=self._loop_closed,
        )

    @property
    def finished(self) -> bool:
        if self._lock.locked():
            _in_use()
        return self._finished

    @property
    def ended_by_eot(self) -> bool:
        if self._lock.locked():
            _in_use()
        return self._eot

    @property
    def reasoning_tokens(self) -> int:
        if self._lock.locked():
            _in_use()
        return self._reasoning_tokens

    @property
    def budget_exceeded(self) -> bool:
        if self._lock.locked():
            _in_use()
        return self._budget_exceeded

    # ----------------------------------------------------------------------- feeding
    def _check_open(self, what: str) -> None:
        if self._eot and not self._finish_called:
            raise RuntimeError(
                f"{what}() called after an end-of-turn token ended the message; "
                "create a new StreamParser"
            )
        if self._broken:
            raise RuntimeError(
                f"{what}() called after id_factory raised; the parser's state is lost, "
                "create a new StreamParser"
            )
        if self._finished:
            raise RuntimeError(f"{what}() called after finish(); create a new StreamParser")

    def _feed(self, data: bytes, n_tokens: int) -> Delta:
        self._check_open("feed")
        n_tokens = check_n_tokens(n_tokens)
        self._select_loop_unit("bytes")
        self._begin()
        self._feed_piece(data, n_tokens, None)
        return self._end()

    def _feed_piece(self, data: bytes, n_tokens: int, token_id: int | None) -> None:
        if self._region == REASONING:  # saturates, as the native 64-bit counter
            self._reasoning_tokens = min(self._reasoning_tokens + n_tokens, MAX_TOKENS)
            if token_id is not None and self._loop_unit == "tokens":
                self._push_loop_unit(token_id)
        self._scan(self._utf8.feed(data))
        self._maybe_force(end_of_delta=True)
        if self._loop_hit:
            self._act_on_loop()

    def _begin(self) -> None:
        self._d_reasoning, self._d_content, self._d_forced, self._d_calls = [], [], [], []
        self._d_forced_ids: list[int] = []
        self._d_loop = None
        self._loop_hit = False  # a loop completed by finish()'s released text is not closed
        if not self._started:
            self._started = True
            self._maybe_force(end_of_delta=False)  # prompt-opened thinking with budget 0

    def _end(self) -> Delta:
        forced = None
        if self._d_forced:
            ids = None if self._opts.vocab is None else self._d_forced_ids
            forced = ForcedClose("".join(self._d_forced), ids)
        calls = [ToolCallDelta(i, cid, name, "".join(parts)) for i, cid, name, parts in self._d_calls]
        return Delta(
            "".join(self._d_reasoning), "".join(self._d_content), calls, forced, self._d_loop
        )

    # ----------------------------------------------------------------------- scanning
    def _live_tags(self) -> tuple[str, ...]:
        if self._region == REASONING:
            tags = (THINK_CLOSE, THINK_OPEN) if self._reasoning_start else (THINK_CLOSE,)
            if self._opts.tool_calls_in_reasoning:
                return tags + (TOOL_CALL_OPEN,)
            return tags
        if self._region == CALL:
            return (TOOL_CALL_CLOSE,)
        if self._after_forced:
            return (THINK_OPEN, TOOL_CALL_OPEN, THINK_CLOSE)
        return (THINK_OPEN, TOOL_CALL_OPEN)

    def _scan(self, text: str) -> None:
        """Scan ``text``; a call that turns out not to be one pushes its body to scan again."""
        frames: list[tuple[str, int]] = [(text, 0)]
        while frames:
            buf, pos = frames.pop()
            pos = self._resolve_held(buf, pos)
            pos = self._scan_frame(buf, pos)
            if pos >= 0:  # fallback at buf[pos]: scan the body again, then the rest of buf
                frames.append((buf, pos))
                frames.append((self._fallback(), 0))

    def _resolve_held(self, buf: str, pos: int) -> int:
        """Complete a tag prefix held from earlier text with the start of ``buf[pos:]``."""
        if not self._held:
            return pos
        held = self._held
        probe = held + buf[pos : pos + 12]
        tag, partial = match_tag(probe, 0, self._live_tags())
        if tag is not None:
            self._held = ""
            self._on_tag(tag)
            return pos + len(tag) - len(held)
        if partial:  # buf[pos:] is shorter than the rest of the tag
            self._held = probe
            return len(buf)
        self._held = ""
        self._emit_text(held)  # only its first character is '<'
        return pos

    def _scan_frame(self, buf: str, pos: int) -> int:
        """Scan ``buf[pos:]``; return -1 when done, or the position of a not-a-call fallback."""
        n = len(buf)
        while pos < n:
            if self._region == CALL and self._mode == JSON:
                pos = self._consume_json(buf, pos)
                if pos < 0:
                    return -pos - 1
                continue
            lt = buf.find("<", pos)
            if lt < 0:
                self._emit_text(buf[pos:])
                return -1
            if lt > pos:
                self._emit_text(buf[pos:lt])
            tag, partial = match_tag(buf, lt, self._live_tags())
            if tag is not None:
                self._on_tag(tag)
                pos = lt + len(tag)
            elif partial:
                self._held = buf[lt:]
                return -1
            else:
                self._emit_text("<")
                pos = lt + 1
        return -1

    def _on_tag(self, tag: str) -> None:
        if tag == TOOL_CALL_OPEN:
            self._open_call()
            return
        self._add_segment("tag", tag)
        if tag == TOOL_CALL_CLOSE:
            self._end_call()
        elif self._region == REASONING:
            if tag == THINK_OPEN:  # <think> at the start of reasoning: absorbed (rule 7)
                return
            self._region = CONTENT  # </think>
            self._reasoning_start = False
        elif tag == THINK_OPEN:
            self._region = REASONING
            self._reasoning_start = True
            self._after_forced = False
            if self._loop is not None:  # each reasoning region is watched on its own
                self._loop.reset()
                self._loop_base = self._loop_units
                self._loop_hit = False  # an earlier detection in this piece was the old region's
            self._maybe_force(end_of_delta=False)
        else:  # </think> right after a forced close: absorbed
            self._after_forced = False

    def _emit_text(self, text: str) -> None:
        region = self._region
        if region == CALL:
            self._call_text(text)
            return
        if region == REASONING:
            if self._loop_unit == "bytes":
                data = text.encode("utf-8")
                assert self._loop is not None
                if self._loop.done:
                    self._loop_units += len(data)
                else:
                    for byte in data:
                        self._push_loop_unit(byte)
            self._d_reasoning.append(text)
            if self._reasoning_start and not all(ch in WHITESPACE for ch in text):
                self._reasoning_start = False
        else:
            self._d_content.append(text)
            if self._after_forced and not all(ch in WHITESPACE for ch in text):
                self._after_forced = False
        self._add_segment(region, text)

    def _add_segment(self, kind: str, text: str) -> None:
        if not self._opts.keep_message:
            return
        if kind in _MERGEABLE and self._segments and self._segments[-1][0] == kind:
            self._segments[-1][1].append(text)
        else:
            self._segments.append((kind, [text]))

    # ----------------------------------------------------------------------- tool calls
    def _open_call(self) -> None:
        self._call_region = self._region
        self._region = CALL
        self._after_forced = False
        self._mode = JSON
        self._call = CallMachine(self._opts.max_json_depth)
        self._pend = []
        self._pend_args = []
        self._body_bytes = 0
        self._record = None
        self._suppressed = False

    def _committed(self) -> bool:
        return self._record is not None

    def _fallback(self) -> str:
        """The open call was not a call: its tag is text of the region it appeared in."""
        body = "".join(self._pend)
        self._pend = []
        self._pend_args = []
        self._call = None
        self._region = self._call_region
        self._emit_text(TOOL_CALL_OPEN)
        return body

    def _body(self, text: str) -> None:
        self._body_bytes += len(text.encode("utf-8"))
        if self._record is None:
            self._pend.append(text)
        else:
            self._record.raw_parts.append(text)
            self._add_segment(CALL, text)

    def _consume_json(self, buf: str, pos: int) -> int:
        """Feed ``buf[pos:]`` to the call machine until the mode changes or ``buf`` ends.

        Returns the next position, or ``-(pos + 1)`` when the call is not a call.
        """
        call = self._call
        assert call is not None
        n = len(buf)
        start = pos
        while pos < n:
            ch = buf[pos]
            status = call.step(ch)
            if status == FAIL:
                self._body(buf[start:pos])
                if self._record is None:
                    return -(pos + 1)
                self._fail_call(call.reason)
                return pos
            pos += 1
            if call.out:
                self._args("".join(call.out))
                call.out.clear()
            if status == COMMIT:
                self._body(buf[start:pos])
                start = pos
                self._commit()
            elif status == CLOSED:
                self._body(buf[start:pos])
                if not call.has_arguments:
                    self._args("{}")
                assert self._record is not None
                self._record.complete = True
                self._mode = AFTER
                return pos
        self._body(buf[start:pos])
        return pos

    def _commit(self) -> None:
        call = self._call
        assert call is not None
        index = self._n_calls
        self._n_calls += 1
        factory = self._opts.id_factory
        if factory is None:
            call_id = new_call_id()
        else:
            self._broken = True  # until the factory returns: an exception loses the block
            call_id = check_call_id(factory(index))
            self._broken = False
        record = CallRecord(index, call_id, call.name)
        tools = self._opts.tools
        error = None if tools is None else tools.unknown(call.name)
        if error is not None:
            record.error = error
            self._suppressed = True
        self._record = record
        if self._opts.keep_message:
            self._records.append(record)
        self._add_segment("tag", TOOL_CALL_OPEN)
        pend = "".join(self._pend)
        self._pend = []
        record.raw_parts.append(pend)
        self._add_segment(CALL, pend)
        args = "".join(self._pend_args)
        self._pend_args = []
        if not self._suppressed:
            self._d_calls.append([index, call_id, call.name, [args]])
        record.args_parts.append(args)

    def _args(self, text: str) -> None:
        record = self._record
        if record is None:
            # Arguments before the name: kept in the machine until the name closes.
            self._pend_args.append(text)
            return
        record.args_parts.append(text)
        if self._suppressed:
            return
        if self._d_calls and self._d_calls[-1][0] == record.index:
            self._d_calls[-1][3].append(text)
        else:
            self._d_calls.append([record.index, None, None, [text]])

    def _fail_call(self, reason: str) -> None:
        record = self._record
        assert record is not None
        if record.error is None:
            record.error = f"{reason} at byte {self._body_bytes}"
        self._mode = RAW

    def _call_text(self, text: str) -> None:
        """Text of a call block outside the JSON body (after the root object, or raw)."""
        if self._mode == AFTER:
            stripped = text.lstrip(" \t\r\n")
            ws = text[: len(text) - len(stripped)]
            if ws:
                self._body(ws)
            if not stripped:
                return
            self._fail_call("unexpected character")
            text = stripped
        self._body(text)

    def _end_call(self) -> None:
        self._call = None
        self._record = None
        self._region = CONTENT

    # ----------------------------------------------------------------------- budget
    def _maybe_force(self, *, end_of_delta: bool) -> None:
        budget = self._opts.reasoning_budget
        if budget is None or self._region != REASONING or self._reasoning_tokens < budget:
            return
        self._budget_exceeded = True
        self._force_close(end_of_delta)

    def _force_close(self, end_of_delta: bool) -> None:
        if end_of_delta:  # the model's output stops here: release what was held as reasoning
            held = self._held + self._utf8.flush()
            self._held = ""
            if held:
                self._emit_text(held)
        close = self._opts.budget_close_text
        self._add_segment("forced", close)
        self._d_forced.append(close)
        self._d_forced_ids.extend(self._close_ids)
        self._region = CONTENT
        self._after_forced = True

    # ----------------------------------------------------------------------- loop guard
    def _select_loop_unit(self, unit: str) -> None:
        guard = self._opts.loop_guard
        if guard is None or self._loop_unit == unit:
            return
        if self._loop_unit:
            raise RuntimeError(
                "loop_guard counts token ids with feed_tokens() and bytes with feed()/feed_bytes(): "
                "one parser cannot mix them"
            )
        self._loop = LoopDetector(*guard.resolved(unit))
        self._loop_unit = unit

    def _push_loop_unit(self, unit: int) -> None:
        self._loop_units += 1
        assert self._loop is not None
        hit = self._loop.push(unit)
        if hit is None:
            return
        period, repeats, start, end = hit
        base = self._loop_base
        info = LoopInfo(period, repeats, start + base, end + base, self._loop_unit)
        self._loops.append(info)
        self._d_loop = info
        self._loop_hit = True

    def _act_on_loop(self) -> None:
        self._loop_hit = False
        guard = self._opts.loop_guard
        # The budget forcing in the same piece wins (one forced close per region); a model
        # </think> in the same piece already ended the region.
        if guard is None or not guard.closes or self._region != REASONING:
            return
        self._force_close(True)
        self._loop_closed = True

    @property
    def loop_closed(self) -> bool:
        return self._loop_closed


def parse(
    text: str | bytes,
    *,
    n_tokens: int = 1,
    **options: object,
) -> Message:
    """One-shot parse: identical to feeding ``text`` as one delta, then ``finish()``."""
    parser = StreamParser(**options)  # type: ignore[arg-type]
    if not isinstance(text, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"parse() takes str or bytes, got {type(text).__name__}")
    if isinstance(text, str):
        parser.feed(text, n_tokens)
    else:
        parser.feed_bytes(text, n_tokens)
    parser.finish()
    return parser.message

