"""Tool-call records shared by both backends: ids, and the final ``ToolCall`` list."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from ._schema import ToolSet
from ._types import ToolCall

_ALPHABET = string.ascii_letters + string.digits


def new_call_id() -> str:
    """``call_`` + 24 random alphanumerics (OpenAI's shape)."""
    return "call_" + "".join(secrets.choice(_ALPHABET) for _ in range(24))


@dataclass
class CallRecord:
    """A call as the parser sees it while streaming (mutable)."""

    index: int
    id: str
    name: str
    args_parts: list[str] = field(default_factory=list)
    raw_parts: list[str] = field(default_factory=list)
    error: str | None = None
    complete: bool = False


def finalize(
    index: int, call_id: str, name: str, arguments: str, error: str | None, raw: str,
    complete: bool, tools: ToolSet | None,
) -> ToolCall:
    """The public ``ToolCall``; a complete call is checked against its tool's schema (a call to
    an unknown tool already has its error from the parser, so its name is not looked up again)."""
    if error is None and complete and tools is not None:
        error = tools.check(name, arguments)
    return ToolCall(index, call_id, name, arguments, error, raw)


def build_tool_calls(records: list[CallRecord], tools: ToolSet | None) -> list[ToolCall]:
    return [
        finalize(r.index, r.id, r.name, "".join(r.args_parts), r.error, "".join(r.raw_parts),
                 r.complete, tools)
        for r in records
    ]
