"""Pure-Python reference implementation: the same public API as the native backend.

Written to be read: it is the executable specification the native parser is tested against.
"""

from __future__ import annotations

from .._options import LoopGuard
from .._schema import ToolSet
from .._types import Delta, ForcedClose, LoopInfo, Message, Segment, ToolCall, ToolCallDelta
from .._vocab import Vocab
from .chat_template import render
from .stream_parser import StreamParser, parse

__all__ = [
    "Delta",
    "ForcedClose",
    "LoopGuard",
    "LoopInfo",
    "Message",
    "Segment",
    "StreamParser",
    "ToolCall",
    "ToolCallDelta",
    "ToolSet",
    "Vocab",
    "parse",
    "render",
]
