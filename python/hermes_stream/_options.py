"""Validation of ``StreamParser`` options, shared by both backends so misuse raises the same way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ._schema import ToolSet
from ._vocab import Vocab

DEFAULT_BUDGET = 30_000
DEFAULT_CLOSE_TEXT = "\n</think>\n"
DEFAULT_MAX_JSON_DEPTH = 512
MAX_JSON_DEPTH_LIMIT = 100_000
MAX_TOKENS = 2**63 - 1  # reasoning_tokens saturates here (a signed 64-bit counter natively)


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
    _check_utf8("budget_close_text", budget_close_text)
    if tools is not None:
        for name in sorted(tools.names):  # type: ignore[attr-defined]
            _check_utf8("a tool name", name)
    return ParserOptions(
        tools=tools,  # type: ignore[arg-type]
        reasoning_budget=reasoning_budget,
        start_in_reasoning=_check_bool("start_in_reasoning", start_in_reasoning),
        tool_calls_in_reasoning=_check_bool("tool_calls_in_reasoning", tool_calls_in_reasoning),
        budget_close_text=budget_close_text,
        vocab=vocab,
        keep_message=_check_bool("keep_message", keep_message),
        id_factory=id_factory,  # type: ignore[arg-type]
        max_json_depth=max_json_depth,
    )


def close_ids(opts: ParserOptions) -> list[int]:
    """``budget_close_text`` as token ids of ``opts.vocab`` ([] without a vocab or a budget)."""
    if opts.vocab is None or opts.reasoning_budget is None:
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
