"""A built-in Hermes 4 style completion, used by the demo and the README's first command."""

from __future__ import annotations

import re

SAMPLE_OUTPUT = (
    "<think>\n"
    "The user asks how many r's are in \"strawberry\". Let me spell it: s-t-r-a-w-b-e-r-r-y.\n"
    "Positions 3, 8 and 9 are r, so there are three.\n"
    "</think>\n"
    "There are **3** r's in \"strawberry\" (st**r**awbe**rr**y)."
)

_PIECE = re.compile(r"\s*\S{1,6}|\s+")


def sample_pieces(text: str = SAMPLE_OUTPUT) -> list[str]:
    """Split ``text`` into small token-like pieces (a word or up to 6 characters each)."""
    return _PIECE.findall(text)
