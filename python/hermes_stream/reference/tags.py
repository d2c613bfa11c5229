"""The tags the parser recognises, and which of them are live in each parser state.

Mirrors ``cpp/hermes_stream/tags.h``.
"""

from __future__ import annotations

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

WHITESPACE = frozenset(" \t\r\n")


def match_tag(buf: str, pos: int, tags: tuple[str, ...]) -> tuple[str | None, bool]:
    """Look at ``buf[pos:]`` (which starts with ``<``).

    Returns ``(tag, False)`` when a live tag starts there, ``(None, True)`` when the rest of the
    buffer is a proper prefix of a live tag (so it must be held until more text arrives), and
    ``(None, False)`` when the ``<`` is plain text.
    """
    rest = len(buf) - pos
    partial = False
    for tag in tags:
        if rest >= len(tag):
            if buf.startswith(tag, pos):
                return tag, False
        elif tag.startswith(buf[pos:]):
            partial = True
    return None, partial
