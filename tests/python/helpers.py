"""Shared helpers: run a parser over chunks and turn results into plain comparable data."""

from __future__ import annotations

from typing import Any

from hermes_stream._types import message_to_dict
from hermes_stream.reference.tags import THINK_CLOSE, THINK_OPEN, TOOL_CALL_CLOSE, TOOL_CALL_OPEN

THINK_TAGS = (THINK_OPEN, THINK_CLOSE)
ALL_TAGS = (THINK_OPEN, THINK_CLOSE, TOOL_CALL_OPEN, TOOL_CALL_CLOSE)


def delta_data(d: Any) -> tuple[Any, ...]:
    forced = None if d.forced is None else (d.forced.text, d.forced.token_ids)
    calls = [(c.index, c.id, c.name, c.arguments) for c in d.tool_calls]
    return (d.reasoning, d.content, calls, forced)


def segment_pairs(m: dict[str, Any]) -> list[tuple[str, str]]:
    """``(kind, text)`` of each segment of ``message_to_dict`` data (short to write in asserts)."""
    return [(s["kind"], s["text"]) for s in m["segments"]]


def run(
    parser_cls: Any,
    chunks: list[Any],
    *,
    n_tokens: list[int] | None = None,
    **opts: Any,
) -> tuple[list[tuple[Any, ...]], dict[str, Any]]:
    """Feed ``chunks`` (str or bytes), then finish; return (delta data list,
    ``message_to_dict(message)``)."""
    p = parser_cls(**opts)
    deltas = []
    for i, chunk in enumerate(chunks):
        n = 1 if n_tokens is None else n_tokens[i]
        d = p.feed(chunk, n) if isinstance(chunk, str) else p.feed_bytes(chunk, n)
        deltas.append(delta_data(d))
    deltas.append(delta_data(p.finish()))
    return deltas, message_to_dict(p.message)


def joined(deltas: list[tuple[Any, ...]]) -> tuple[str, str, str]:
    reasoning = "".join(d[0] for d in deltas)
    content = "".join(d[1] for d in deltas)
    forced = "".join(d[3][0] for d in deltas if d[3] is not None)
    return reasoning, content, forced


def split_at(data: Any, cuts: list[int]) -> list[Any]:
    points = sorted({c for c in cuts if 0 < c < len(data)})
    out, prev = [], 0
    for c in points + [len(data)]:
        out.append(data[prev:c])
        prev = c
    return out


def ends_with_tag_prefix(text: str, tags: tuple[str, ...] = ALL_TAGS) -> bool:
    """True when some suffix of ``text`` is a proper prefix of one of ``tags``."""
    for tag in tags:
        for k in range(1, len(tag)):
            if text.endswith(tag[:k]):
                return True
    return False


def texts_only(m: dict[str, Any]) -> dict[str, Any]:
    """Message data without the token count, which depends on how many deltas were fed."""
    return {k: v for k, v in m.items() if k != "reasoning_tokens"}
