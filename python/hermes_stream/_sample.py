"""A built-in Hermes 4 style completion, used by the demo and the README's first command."""

from __future__ import annotations

import re

SAMPLE_OUTPUT = (
    "<think>\n"
    "The user asks how many r's are in \"strawberry\" and for the weather in Paris.\n"
    "Spelling it: s-t-r-a-w-b-e-r-r-y, positions 3, 8 and 9 are r, so three.\n"
    "For the weather I need the get_weather tool.\n"
    "</think>\n"
    "There are **3** r's in \"strawberry\". Let me check the weather in Paris.\n"
    "<tool_call>\n"
    '{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n'
    "</tool_call>"
)

SAMPLE_TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
]

SAMPLE_CONVERSATION = [
    {"role": "user", "content": 'How many r\'s are in "strawberry"? And what is the weather in Paris?'},
]

_PIECE = re.compile(r"\s*\S{1,6}|\s+")


def sample_pieces(text: str = SAMPLE_OUTPUT) -> list[str]:
    """Split ``text`` into small token-like pieces (a word or up to 6 characters each)."""
    return _PIECE.findall(text)
