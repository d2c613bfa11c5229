"""Tool-argument schema checks (issue 12): the cost per checked call, off the per-delta path.

``ToolSet.check`` (``jsonschema`` validation, compiled once per ToolSet) on the arguments of one
completed call, against ``json.loads`` of the same text as the floor (any check has to parse the
arguments). Schemas: a flat OpenAI-style tool and a pydantic-style one with ``$defs`` / ``$ref``,
``pattern``, bounds and ``format``; valid and failing arguments.

    python -m pytest bench/test_schema.py --benchmark-only
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import hermes_stream as hs
from harness import SMOKE, measure, repeat

FLAT = {"type": "object", "properties": {
    "city": {"type": "string"}, "unit": {"type": "string", "enum": ["metric", "imperial"]},
    "limit": {"type": "integer", "minimum": 1, "maximum": 50}}, "required": ["city"]}
PYDANTIC = {
    "$defs": {
        "Filter": {"type": "object", "properties": {
            "min_score": {"type": "number", "minimum": 0, "maximum": 1},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 8}},
            "additionalProperties": False},
        "Unit": {"type": "string", "enum": ["metric", "imperial"]}},
    "type": "object",
    "properties": {
        "city": {"type": "string", "pattern": "^[A-Z][a-z]+$"},
        "day": {"type": "string", "format": "date"},
        "unit": {"$ref": "#/$defs/Unit"},
        "filters": {"anyOf": [{"$ref": "#/$defs/Filter"}, {"type": "null"}]}},
    "required": ["city", "day"],
}
ARGS = {
    "flat-ok": (FLAT, {"city": "Paris", "unit": "metric", "limit": 3}),
    "flat-bad": (FLAT, {"city": "Paris", "limit": 99}),
    "pydantic-ok": (PYDANTIC, {"city": "Paris", "day": "2026-12-01", "unit": "metric",
                               "filters": {"min_score": 0.5, "tags": ["a", "b", "c"]}}),
    "pydantic-bad": (PYDANTIC, {"city": "paris", "day": "2026-12-01",
                                "filters": {"min_score": 2, "tags": [""]}}),
}
REPS = 1 if SMOKE else 2_000




@pytest.mark.parametrize("case", sorted(ARGS))
@pytest.mark.parametrize("what", ["check", "json_loads"])
def test_schema_check_cost(benchmark: Any, what: str, case: str) -> None:
    schema, args = ARGS[case]
    text = json.dumps(args)
    tools = hs.ToolSet([{"type": "function", "function": {"name": "f", "parameters": schema}}])
    verdict = tools.check("f", text)
    assert (verdict is None) == case.endswith("-ok"), verdict
    fn = (lambda: tools.check("f", text)) if what == "check" else (lambda: json.loads(text))
    measure(benchmark, repeat, key=f"schema_{what}_{case}", group=f"schema-{case}", n_units=REPS,
            unit="call", kind="fast", setup=lambda: ((fn, REPS), {}))
