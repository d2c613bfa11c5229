"""Validation of ``StreamParser`` options, shared by both backends so misuse raises the same way."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from ._schema import ToolSet
from ._vocab import Vocab

DEFAULT_BUDGET = 30_000
DEFAULT_CLOSE_TEXT = "\n</think>\n"
DEFAULT_MAX_JSON_DEPTH = 512
MAX_JSON_DEPTH_LIMIT = 100_000
MAX_TOKENS = 2**63 - 1  # reasoning_tokens saturates here (a signed 64-bit counter natively)


# Loop guard defaults per unit (docs/design.md "Loop guard" says how they were chosen).
LOOP_MIN_REPEATS = 8
LOOP_MAX_PERIOD = {"tokens": 256, "bytes": 1024}
LOOP_MIN_SPAN = {"tokens": 512, "bytes": 2048}
LOOP_MAX_PERIOD_LIMIT = 65_536
LOOP_ON_LOOP = ("report", "close")


def _loop_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"LoopGuard {name} must be an int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"LoopGuard {name} must be in [{low}, {high}], got {value}")


_REQUEST_OFF = ("false", "off", "none", "")
_REQUEST_ON = ("true", "on")


@dataclass(frozen=True, slots=True)
class LoopGuard:
    """Detect a degenerate repeating reasoning trace (``StreamParser(loop_guard=...)``).

    The guard watches each reasoning region's units: token ids counted as reasoning with
    ``feed_tokens`` (SPEC rule 13's counting), bytes of reasoning text with ``feed``/
    ``feed_bytes``. When the region so far *ends* with ``min_repeats`` or more copies of a span of
    ``period <= max_period`` units, covering at least ``min_span`` units, the delta that completes
    it carries ``loop`` (a :class:`LoopInfo`), once per region, and ``message.loop_detected`` is
    True. ``on_loop="close"`` then forces the close as the reasoning budget does;
    ``on_loop="report"`` only reports.

    ``max_period`` and ``min_span`` default (``None``) per unit: 256 / 512 for tokens,
    1024 / 2048 for bytes; ``min_repeats`` defaults to 8 (at least 3).
    """

    min_repeats: int = LOOP_MIN_REPEATS
    max_period: int | None = None
    min_span: int | None = None
    on_loop: str = "report"

    def __post_init__(self) -> None:
        _loop_int("min_repeats", self.min_repeats, 3, 1 << 20)
        if self.max_period is not None:
            _loop_int("max_period", self.max_period, 1, LOOP_MAX_PERIOD_LIMIT)
        if self.min_span is not None:
            _loop_int("min_span", self.min_span, 1, 1 << 40)
        if not isinstance(self.on_loop, str):
            raise TypeError(f"LoopGuard on_loop must be a str, got {type(self.on_loop).__name__}")
        if self.on_loop not in LOOP_ON_LOOP:
            raise ValueError(f"LoopGuard on_loop must be 'report' or 'close', got {self.on_loop!r}")

    @property
    def closes(self) -> bool:
        return self.on_loop == "close"

    def resolved(self, unit: str) -> tuple[int, int, int]:
        """``(min_repeats, max_period, min_span)`` for ``unit`` ("tokens" or "bytes")."""
        period = LOOP_MAX_PERIOD[unit] if self.max_period is None else self.max_period
        span = LOOP_MIN_SPAN[unit] if self.min_span is None else self.min_span
        return self.min_repeats, period, span

    @classmethod
    def from_request(cls, value: object) -> LoopGuard | None:
        """A guard from a request argument (vLLM ``vllm_xargs``, SGLang ``custom_params``).

        ``None``/``False`` (or the strings ``"false"``/``"off"``) -> no guard; ``True`` (or
        ``"true"``/``"on"``) -> the defaults; ``"report"``/``"close"`` -> the defaults with that
        ``on_loop``; a dict of the fields, or the same as a JSON object string (vLLM's
        ``vllm_xargs`` takes only str, int, float and list values), (e.g. ``{"on_loop": "close",
        "min_repeats": 12}``); a ``LoopGuard`` as is. Anything else raises ``ValueError`` with a
        message fit for an HTTP 400.
        """
        if value is None or value is False:
            return None
        if isinstance(value, cls):
            return value
        if value is True:
            return cls()
        if isinstance(value, str):
            text = value.strip()
            if text.lower() in _REQUEST_OFF:
                return None
            if text.lower() in _REQUEST_ON:
                return cls()
            if text.startswith("{"):
                try:
                    value = json.loads(text)
                except ValueError as exc:
                    raise ValueError(f"invalid loop_guard: not a JSON object ({exc})") from None
        try:
            if isinstance(value, str):
                return cls(on_loop=value)
            if isinstance(value, Mapping):
                known = {f.name for f in fields(cls)}
                unknown = sorted(str(k) for k in value if k not in known)
                if unknown:
                    raise ValueError(
                        f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(known))}"
                    )
                return cls(**{str(k): v for k, v in value.items()})
        except (TypeError, ValueError) as exc:
            raise ValueError(f"invalid loop_guard: {exc}") from None
        raise ValueError(
            "invalid loop_guard: expected true/false, 'report', 'close' or an object with "
            f"min_repeats, max_period, min_span, on_loop; got {type(value).__name__}"
        )


@dataclass(frozen=True, slots=True)
class ParserOptions:
    tools: ToolSet | None
    reasoning_budget: int | None
    start_in_reasoning: bool
    tool_calls_in_reasoning: bool
    budget_close_text: str
    vocab: Any
    keep_message: bool
    id_factory: Callable[[int], str] | None
    max_json_depth: int
    loop_guard: LoopGuard | None = None


def _check_utf8(what: str, text: str) -> None:
    """Options are encoded as UTF-8 by the native backend: lone surrogates are refused (both)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid UTF-8: it contains a lone surrogate") from None


def check_call_id(call_id: object) -> str:
    """An ``id_factory`` result: a str that is valid UTF-8 (same errors in both backends)."""
    if not isinstance(call_id, str):
        raise TypeError(f"id_factory must return a str, got {type(call_id).__name__}")
    try:
        call_id.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "id_factory returned a str that is not valid UTF-8: it contains a lone surrogate"
        ) from None
    return call_id


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__}")
    return value


def validate_options(
    tools: object = None,
    reasoning_budget: object = DEFAULT_BUDGET,
    start_in_reasoning: object = False,
    tool_calls_in_reasoning: object = False,
    budget_close_text: object = DEFAULT_CLOSE_TEXT,
    vocab: object = None,
    keep_message: object = True,
    id_factory: object = None,
    max_json_depth: object = DEFAULT_MAX_JSON_DEPTH,
    loop_guard: object = None,
) -> ParserOptions:
    """Check every option; raise ``TypeError``/``ValueError`` with a message naming the option."""
    if tools is not None and not isinstance(tools, ToolSet):
        if not isinstance(tools, (list, tuple)):
            raise TypeError(
                f"tools must be a list of OpenAI tool dicts, a ToolSet or None, got {type(tools).__name__}"
            )
        tools = ToolSet(tools)
    if vocab is not None and not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be a hermes_stream.Vocab or None, got {type(vocab).__name__}")
    if id_factory is not None and not callable(id_factory):
        raise TypeError(f"id_factory must be callable or None, got {type(id_factory).__name__}")
    if isinstance(max_json_depth, bool) or not isinstance(max_json_depth, int):
        raise TypeError(f"max_json_depth must be an int, got {type(max_json_depth).__name__}")
    if not 1 <= max_json_depth <= MAX_JSON_DEPTH_LIMIT:
        raise ValueError(f"max_json_depth must be in [1, {MAX_JSON_DEPTH_LIMIT}], got {max_json_depth}")
    if reasoning_budget is not None:
        if isinstance(reasoning_budget, bool) or not isinstance(reasoning_budget, int):
            raise TypeError(
                f"reasoning_budget must be an int or None, got {type(reasoning_budget).__name__}"
            )
        if reasoning_budget < 0:
            raise ValueError(f"reasoning_budget must be >= 0 or None, got {reasoning_budget}")
        if reasoning_budget >= 2**62:
            raise ValueError("reasoning_budget is too large; use None for unlimited")
    if not isinstance(budget_close_text, str):
        raise TypeError(f"budget_close_text must be a str, got {type(budget_close_text).__name__}")
    if loop_guard is not None and not isinstance(loop_guard, LoopGuard):
        raise TypeError(
            "loop_guard must be a hermes_stream.LoopGuard or None (LoopGuard.from_request() "
            f"converts request values), got {type(loop_guard).__name__}"
        )
    _check_utf8("budget_close_text", budget_close_text)
    if tools is not None:
        for name in sorted(tools.names):
            _check_utf8("a tool name", name)
    return ParserOptions(
        tools=tools,
        reasoning_budget=reasoning_budget,
        start_in_reasoning=_check_bool("start_in_reasoning", start_in_reasoning),
        tool_calls_in_reasoning=_check_bool("tool_calls_in_reasoning", tool_calls_in_reasoning),
        budget_close_text=budget_close_text,
        vocab=vocab,
        keep_message=_check_bool("keep_message", keep_message),
        id_factory=id_factory,
        max_json_depth=max_json_depth,
        loop_guard=loop_guard,
    )


def loop_guard_args(opts: ParserOptions) -> tuple[int, int, int, int, int, bool] | None:
    """The native parser's ``loop_guard`` argument: both units resolved."""
    g = opts.loop_guard
    if g is None:
        return None
    m, pt, st = g.resolved("tokens")
    _, pb, sb = g.resolved("bytes")
    return (m, pt, st, pb, sb, g.closes)


def close_ids(opts: ParserOptions) -> list[int]:
    """``budget_close_text`` as token ids of ``opts.vocab`` ([] without a vocab, or when nothing
    can force a close: no budget and no closing loop guard)."""
    closes = opts.reasoning_budget is not None or (
        opts.loop_guard is not None and opts.loop_guard.closes
    )
    if opts.vocab is None or not closes:
        return []
    try:
        return opts.vocab.encode(opts.budget_close_text)  # type: ignore[no-any-return]
    except ValueError as exc:
        raise ValueError(f"budget_close_text cannot be encoded with this vocab: {exc}") from None


def check_n_tokens(n_tokens: object) -> int:
    if isinstance(n_tokens, bool) or not isinstance(n_tokens, int):
        raise TypeError(f"n_tokens must be an int, got {type(n_tokens).__name__}")
    if n_tokens < 0:
        raise ValueError(f"n_tokens must be >= 0, got {n_tokens!r}")
    if n_tokens >= MAX_TOKENS + 1:
        raise ValueError(f"n_tokens must be < 2**63, got {n_tokens!r}")
    return n_tokens
