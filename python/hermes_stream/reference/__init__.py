"""Pure-Python reference implementation: the same public API as the native backend.

Written to be read: it is the executable specification the native parser is tested against.
"""

from __future__ import annotations

from .._schema import ToolSet
from .._vocab import Vocab
from .._types import Delta, ForcedClose, Message, Segment, ToolCall, ToolCallDelta
from .render import render
from .stream_parser import StreamParser, parse

__all__ = [
    "Delta",
    "ForcedClose",
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
