"""One source per tag: ``reference/tags.py`` is the Python definition every Python user imports;
the core's ``cpp/hermes_stream/tags.h`` must spell the same tags, and both backends recognise them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hermes_stream.reference.tags import THINK_CLOSE, THINK_OPEN, TOOL_CALL_CLOSE, TOOL_CALL_OPEN

TAGS_H = Path(__file__).resolve().parents[2] / "cpp" / "hermes_stream" / "tags.h"


def test_core_header_spells_the_python_tags() -> None:
    if not TAGS_H.is_file():
        pytest.skip("cpp/hermes_stream/tags.h is not next to the tests (installed package only)")
    found = dict(re.findall(r'constexpr std::string_view (k\w+) = "([^"]*)";', TAGS_H.read_text()))
    assert found == {
        "kThinkOpen": THINK_OPEN,
        "kThinkClose": THINK_CLOSE,
        "kToolCallOpen": TOOL_CALL_OPEN,
        "kToolCallClose": TOOL_CALL_CLOSE,
    }


def test_python_tags_are_the_tags_the_parser_recognises(backend: Any) -> None:
    text = (f"{THINK_OPEN}plan{THINK_CLOSE}Hi {TOOL_CALL_OPEN}"
            '{"name": "f", "arguments": {}}' f"{TOOL_CALL_CLOSE}")
    m = backend.parse(text, reasoning_budget=None)
    assert [s.text for s in m.segments if s.kind == "tag"] == [
        THINK_OPEN, THINK_CLOSE, TOOL_CALL_OPEN, TOOL_CALL_CLOSE,
    ]
    assert m.reasoning == "plan" and m.content == "Hi " and m.tool_calls[0].name == "f"
