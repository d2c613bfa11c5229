"""Tool schemas (SPEC rule 11): unknown tools, argument checks with JSON pointers, ToolSet sharing.

Expected errors are ``"schema: <pointer>: <keyword>: <jsonschema's message>"`` (``/`` for the
root); the pointer and the keyword were worked out by hand from the schema, the message is
jsonschema's. A call keeps its place in ``message.tool_calls`` whatever its error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import hermes_stream as hs

IDS = lambda i: f"call_{i}"  # noqa: E731


def tool(name: str, parameters: Any = None) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": name, "description": "d"}
    if parameters is not None:
        fn["parameters"] = parameters
    return {"type": "function", "function": fn}


def obj(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **extra}


def call_text(name: str, arguments: str | None) -> str:
    if arguments is None:
        return '<tool_call>{"name": "' + name + '"}</tool_call>'
    return '<tool_call>{"name": "' + name + '", "arguments": ' + arguments + "}</tool_call>"


def run(backend: Any, chunks: list[str], **opts: Any) -> tuple[list[Any], Any]:
    opts.setdefault("id_factory", IDS)
    p = backend.StreamParser(**opts)
    deltas = [p.feed(c) for c in chunks]
    deltas.append(p.finish())
    return deltas, p.message


def fragments(deltas: list[Any]) -> list[tuple[int, str | None, str | None, str]]:
    return [(c.index, c.id, c.name, c.arguments) for d in deltas for c in d.tool_calls]


# (parameters, arguments JSON, expected error or None)
CASES = [
    # type
    (obj({"city": {"type": "string"}}), '{"city": "Oslo"}', None),
    (obj({"city": {"type": "string"}}), '{"city": 5}', "schema: /city: type: 5 is not of type 'string'"),
    (obj({"ok": {"type": "boolean"}}), '{"ok": 0}', "schema: /ok: type: 0 is not of type 'boolean'"),
    (obj({"o": {"type": "object"}}), '{"o": []}', "schema: /o: type: [] is not of type 'object'"),
    (obj({"l": {"type": "array"}}), '{"l": {}}', "schema: /l: type: {} is not of type 'array'"),
    (obj({"z": {"type": "null"}}), '{"z": false}', "schema: /z: type: False is not of type 'null'"),
    ({"type": "array"}, "{}", "schema: /: type: {} is not of type 'array'"),
    # integer vs number
    (obj({"n": {"type": "integer"}}), '{"n": 2}', None),
    (obj({"n": {"type": "integer"}}), '{"n": 2.0}', None),  # JSON Schema: 2.0 is an integer
    (obj({"n": {"type": "integer"}}), '{"n": -0}', None),
    (obj({"n": {"type": "integer"}}), '{"n": 1.5}', "schema: /n: type: 1.5 is not of type 'integer'"),
    (obj({"n": {"type": "integer"}}), '{"n": true}', "schema: /n: type: True is not of type 'integer'"),
    (obj({"n": {"type": "integer"}}), '{"n": "3"}', "schema: /n: type: '3' is not of type 'integer'"),
    (obj({"n": {"type": "integer"}}), '{"n": 1e999999}', "schema: /n: type: inf is not of type 'integer'"),
    (obj({"x": {"type": "number"}}), '{"x": 3}', None),
    (obj({"x": {"type": "number"}}), '{"x": 1e999999}', None),
    (obj({"x": {"type": "number"}}), '{"x": "1"}', "schema: /x: type: '1' is not of type 'number'"),
    (obj({"x": {"type": "number"}}), '{"x": false}', "schema: /x: type: False is not of type 'number'"),
    # required
    (obj({"city": {"type": "string"}}, required=["city"]), "{}", "schema: /: required: 'city' is a required property"),
    (obj({}, required=["a", "b"]), '{"b": 1}', "schema: /: required: 'a' is a required property"),
    (obj({}, required=["a"]), '{"a": null}', None),
    # enum / const
    (obj({"u": {"enum": ["c", "f"]}}), '{"u": "f"}', None),
    (obj({"u": {"enum": ["c", "f"]}}), '{"u": "k"}', "schema: /u: enum: 'k' is not one of ['c', 'f']"),
    (obj({"u": {"enum": [1, None]}}), '{"u": true}', "schema: /u: enum: True is not one of [1, None]"),
    (obj({"u": {"enum": [1, None]}}), '{"u": 1.0}', None),
    (obj({"u": {"enum": [[1], {"a": 1}]}}), '{"u": {"a": 1}}', None),
    (obj({"v": {"const": "x"}}), '{"v": "x"}', None),
    (obj({"v": {"const": "x"}}), '{"v": "y"}', "schema: /v: const: 'x' was expected"),
    (obj({"v": {"const": 0}}), '{"v": false}', "schema: /v: const: 0 was expected"),
    # items
    (obj({"l": {"type": "array", "items": {"type": "integer"}}}), '{"l": [1, 2]}', None),
    (obj({"l": {"type": "array", "items": {"type": "integer"}}}), '{"l": [1, "a", 3.5]}', "schema: /l/2: type: 3.5 is not of type 'integer'"),
    (obj({"l": {"type": "array", "items": {"type": "integer"}}}), '{"l": []}', None),
    # additionalProperties
    (obj({"a": {}}, additionalProperties=False), '{"a": 1}', None),
    (obj({"a": {}}, additionalProperties=False), '{"a": 1, "b": 2}', "schema: /: additionalProperties: Additional properties are not allowed ('b' was unexpected)"),
    (obj({"a": {}}, additionalProperties={"type": "string"}), '{"a": 1, "z": "ok", "y": 1}', "schema: /y: type: 1 is not of type 'string'"),
    (obj({"a": {}}, additionalProperties=True), '{"q": 1}', None),
    # anyOf / oneOf
    (obj({"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}), '{"v": 3}', None),
    (obj({"v": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}), '{"v": 1.5}', "schema: /v: anyOf: 1.5 is not valid under any of the given schemas"),
    (obj({"v": {"oneOf": [{"type": "number"}, {"type": "string"}]}}), '{"v": "s"}', None),
    (obj({"v": {"oneOf": [{"type": "number"}, {"type": "integer"}]}}), '{"v": 1}', "schema: /v: oneOf: 1 is valid under each of {'type': 'integer'}, {'type': 'number'}"),
    (obj({"v": {"oneOf": [{"type": "number"}, {"type": "integer"}]}}), '{"v": 1.5}', None),
    (obj({"v": {"oneOf": [{"type": "number"}, {"type": "integer"}]}}), '{"v": null}', "schema: /v: oneOf: None is not valid under any of the given schemas"),
    # nullable forms
    (obj({"v": {"type": "string", "nullable": True}}), '{"v": null}', None),
    (obj({"v": {"type": ["string", "null"]}}), '{"v": null}', None),
    (obj({"v": {"type": ["string", "null"]}}), '{"v": 5}', "schema: /v: type: 5 is not of type 'string', 'null'"),
    (obj({"v": {"type": "string", "nullable": True}}), '{"v": 5}', "schema: /v: type: 5 is not of type 'string'"),
    (obj({"v": {"type": "string"}}), '{"v": null}', "schema: /v: type: None is not of type 'string'"),
    (obj({"v": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}), '{"v": null}', None),
    # nested objects and arrays
    (
        obj({"user": obj({"tags": {"type": "array", "items": {"type": "string"}}})}),
        '{"user": {"tags": ["a", 1]}}',
        "schema: /user/tags/1: type: 1 is not of type 'string'",
    ),
    (obj({"user": obj({"id": {"type": "integer"}}, required=["id"])}), '{"user": {}}', "schema: /user: required: 'id' is a required property"),
    (
        obj({"rows": {"type": "array", "items": obj({"cells": {"type": "array", "items": {"enum": ["x", "o"]}}})}}),
        '{"rows": [{"cells": ["x"]}, {"cells": ["o", "x", "?"]}]}',
        "schema: /rows/1/cells/2: enum: '?' is not one of ['x', 'o']",
    ),
    (
        obj({"m": {"type": "array", "items": {"type": "array", "items": obj({}, additionalProperties=False)}}}),
        '{"m": [[], [{}, {"k": 1}]]}',
        "schema: /m/1/1: additionalProperties: Additional properties are not allowed ('k' was unexpected)",
    ),
    # JSON pointer escaping of ~ and /
    (obj({"a/b": {"type": "string"}}), '{"a/b": 1}', "schema: /a~1b: type: 1 is not of type 'string'"),
    (obj({"c~d": {"type": "string"}}), '{"c~d": 1}', "schema: /c~0d: type: 1 is not of type 'string'"),
    # keywords beyond the old subset: pattern, bounds, lengths, sizes, format
    (obj({"s": {"type": "string", "pattern": "^[A-Z]{3}$"}}), '{"s": "EUR"}', None),
    (obj({"s": {"type": "string", "pattern": "^[A-Z]{3}$"}}), '{"s": "eur"}', "schema: /s: pattern: 'eur' does not match '^[A-Z]{3}$'"),
    (obj({"n": {"type": "integer", "minimum": 1, "maximum": 50}}), '{"n": 0}', "schema: /n: minimum: 0 is less than the minimum of 1"),
    (obj({"n": {"type": "number", "exclusiveMaximum": 1}}), '{"n": 1}', "schema: /n: exclusiveMaximum: 1 is greater than or equal to the maximum of 1"),
    (obj({"s": {"type": "string", "minLength": 2}}), '{"s": "é"}', "schema: /s: minLength: 'é' is too short"),
    (obj({"l": {"type": "array", "maxItems": 1}}), '{"l": [1, 2]}', "schema: /l: maxItems: [1, 2] is too long"),
    (obj({"l": {"type": "array", "uniqueItems": True}}), '{"l": [1, 1.0]}', "schema: /l: uniqueItems: [1, 1.0] has non-unique elements"),
    (obj({"d": {"type": "string", "format": "date"}}), '{"d": "2026-12-01"}', None),
    (obj({"d": {"type": "string", "format": "date"}}), '{"d": "2026-13-01"}', "schema: /d: format: '2026-13-01' is not a 'date'"),
    (obj({"ip": {"type": "string", "format": "ipv4"}}), '{"ip": "10.0.0.256"}', "schema: /ip: format: '10.0.0.256' is not a 'ipv4'"),
    (obj({}, minProperties=1), "{}", "schema: /: minProperties: {} should be non-empty"),
    # $ref into $defs (pydantic's shape) and into draft-07 definitions
    (
        {"$defs": {"Unit": {"enum": ["c", "f"], "type": "string"}},
         "properties": {"unit": {"$ref": "#/$defs/Unit"}}, "type": "object"},
        '{"unit": "k"}', "schema: /unit: enum: 'k' is not one of ['c', 'f']",
    ),
    (
        {"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"N": {"type": "integer"}},
         "type": "object", "properties": {"n": {"$ref": "#/definitions/N"}}},
        '{"n": "1"}', "schema: /n: type: '1' is not of type 'integer'",
    ),
    # nullable next to a $ref target's type
    (
        {"$defs": {"S": {"type": "string", "nullable": True}}, "type": "object",
         "properties": {"s": {"$ref": "#/$defs/S"}}},
        '{"s": null}', None,
    ),
    # no parameters / empty schema: anything goes
    (None, '{"anything": [1, {"x": null}]}', None),
    ({}, '{"a": 1}', None),
]


@pytest.mark.parametrize(("parameters", "arguments", "error"), CASES)
def test_schema_check(backend: Any, parameters: Any, arguments: str, error: str | None) -> None:
    tools = [tool("t", parameters), tool("other", {"type": "object"})]
    text = "x" + call_text("t", arguments) + "y"
    deltas, m = run(backend, [text], tools=tools)
    assert [(c.index, c.name, c.arguments, c.error) for c in m.tool_calls] == [(0, "t", arguments, error)]
    assert m.content == "xy"
    # the check runs on the complete arguments: the call's deltas were streamed as usual
    assert fragments(deltas) == [(0, "call_0", "t", arguments)]
    # same verdict with string-encoded arguments, and through parse()
    m2 = backend.parse(call_text("t", json.dumps(arguments)), tools=tools, id_factory=IDS)
    assert [(c.arguments, c.error) for c in m2.tool_calls] == [(arguments, error)]


def test_missing_arguments_checked_as_empty_object(backend: Any) -> None:
    tools = [tool("t", obj({"city": {"type": "string"}}, required=["city"])), tool("u", {"type": "object"})]
    m = backend.parse(call_text("t", None) + call_text("u", None), tools=tools, id_factory=IDS)
    assert [(c.name, c.arguments, c.error) for c in m.tool_calls] == [
        ("t", "{}", "schema: /: required: 'city' is a required property"),
        ("u", "{}", None),
    ]


def test_unknown_tool(backend: Any) -> None:
    tools = [tool("get_weather", obj({"city": {"type": "string"}}))]
    b0 = '{"name": "nope", "arguments": {"a": 1}}'
    b1 = '{"name": "get_weather", "arguments": {"city": "Oslo"}}'
    text = "Hi " + "<tool_call>" + b0 + "</tool_call>" + " <tool_call>" + b1 + "</tool_call>"
    for chunks in ([text], list(text)):
        deltas, m = run(backend, chunks, tools=tools)
        assert [(c.index, c.id, c.name, c.arguments, c.error, c.raw) for c in m.tool_calls] == [
            (0, "call_0", "nope", '{"a": 1}', "unknown tool nope", b0),
            (1, "call_1", "get_weather", '{"city": "Oslo"}', None, b1),
        ]
        assert m.content == "Hi  "
        assert "".join(s.text for s in m.segments) == text
        # no delta at all for the unknown tool; the known one streams normally
        assert {f[0] for f in fragments(deltas)} == {1}
        args = "".join(f[3] for f in fragments(deltas))
        assert args == '{"city": "Oslo"}'
        assert [f[1:3] for f in fragments(deltas) if f[1] is not None] == [("call_1", "get_weather")]


def test_unknown_tool_error_wins_over_later_failures(backend: Any) -> None:
    tools = [tool("f")]
    _, m = run(backend, ['<tool_call>{"name": "g", "arguments": {"a": x}}</tool_call>'], tools=tools)
    assert [(c.name, c.error) for c in m.tool_calls] == [("g", "unknown tool g")]
    deltas, m = run(backend, ['<tool_call>{"name": "g", "arguments": {"a": 1'], tools=tools)
    assert [(c.name, c.error) for c in m.tool_calls] == [("g", "unknown tool g")]
    assert fragments(deltas) == []


def test_json_errors_take_precedence_over_schema(backend: Any) -> None:
    tools = [tool("f", obj({"a": {"type": "string"}}, required=["a"]))]
    _, m = run(backend, ['<tool_call>{"name": "f", "arguments": {"a": 1,}}</tool_call>'], tools=tools)
    assert [c.error for c in m.tool_calls] == ["unexpected character at byte 35"]
    _, m = run(backend, ['<tool_call>{"name": "f", "arguments": {"a": 1'], tools=tools)
    assert [c.error for c in m.tool_calls] == ["truncated at byte 34"]


def test_schema_error_visible_as_soon_as_call_is_complete(backend: Any) -> None:
    tools = [tool("f", obj({"a": {"type": "string"}}))]
    p = backend.StreamParser(tools=tools, id_factory=IDS)
    p.feed('<tool_call>{"name": "f", "arguments": {"a": 1}')
    assert [(c.arguments, c.error) for c in p.message.tool_calls] == [('{"a": 1}', None)]  # incomplete
    p.feed("}")
    assert [c.error for c in p.message.tool_calls] == ["schema: /a: type: 1 is not of type 'string'"]
    p.feed("</tool_call>")
    p.finish()
    assert [c.error for c in p.message.tool_calls] == ["schema: /a: type: 1 is not of type 'string'"]


def test_toolset_shared_by_two_parsers(backend: Any) -> None:
    ts = hs.ToolSet([tool("f", obj({"n": {"type": "integer"}}, required=["n"])), {"name": "g"}])
    assert ts.names == frozenset({"f", "g"})
    p1 = backend.StreamParser(tools=ts, id_factory=IDS)
    p2 = backend.StreamParser(tools=ts, id_factory=lambda i: f"other_{i}")
    s1 = '<tool_call>{"name": "f", "arguments": {"n": 1}}</tool_call><tool_call>{"name": "h"}</tool_call>'
    s2 = '<tool_call>{"name": "g", "arguments": {"x": []}}</tool_call><tool_call>{"name": "f", "arguments": {"n": "1"}}</tool_call>'
    for i in range(max(len(s1), len(s2))):  # interleaved, one character at a time
        p1.feed(s1[i : i + 1])
        p2.feed(s2[i : i + 1])
    p1.finish()
    p2.finish()
    assert [(c.id, c.name, c.error) for c in p1.message.tool_calls] == [
        ("call_0", "f", None),
        ("call_1", "h", "unknown tool h"),
    ]
    assert [(c.id, c.name, c.error) for c in p2.message.tool_calls] == [
        ("other_0", "g", None),
        ("other_1", "f", "schema: /n: type: '1' is not of type 'integer'"),
    ]


def test_tools_as_tuple_and_bare_function_dicts(backend: Any) -> None:
    tools = ({"name": "f", "parameters": obj({"a": {"const": 1}})},)
    m = backend.parse(call_text("f", '{"a": 2}'), tools=tools)
    assert [c.error for c in m.tool_calls] == ["schema: /a: const: 1 was expected"]


def test_empty_tool_list_makes_every_name_unknown(backend: Any) -> None:
    deltas, m = run(backend, [call_text("f", "{}")], tools=[])
    assert [c.error for c in m.tool_calls] == ["unknown tool f"]
    assert fragments(deltas) == []


def test_no_tools_means_no_checks(backend: Any) -> None:
    m = backend.parse(call_text("anything", '{"a": 1}'))
    assert [(c.name, c.error) for c in m.tool_calls] == [("anything", None)]


# ----------------------------------------------------------------------------------- ToolSet misuse
@pytest.mark.parametrize(
    ("tools", "exc", "pattern"),
    [
        (["not a dict"], TypeError, r"tools\[0\]"),
        ([tool("f"), 5], TypeError, r"tools\[1\]"),
        ([{"type": "function", "function": {"parameters": {}}}], ValueError, "name"),
        ([{"name": ""}], ValueError, "name"),
        ([{"name": "f", "parameters": {"type": "strin"}}], ValueError,
         r"tools\[0\]\.parameters is not a valid JSON Schema at /type: 'strin'"),
        ([{"name": "f", "parameters": {"properties": ["a"]}}], ValueError, "at /properties: "),
        ([{"name": "f", "parameters": "object"}], ValueError, "a schema must be an object"),
        ([{"name": "f", "parameters": obj({"a": {"type": ["string", "float"]}})}], ValueError,
         "at /properties/a/type: "),
        ([{"name": "f", "parameters": {"minimum": "1"}}], ValueError, "at /minimum: '1' is not"),
    ],
)
def test_bad_tool_lists(backend: Any, tools: Any, exc: type, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        hs.ToolSet(tools)
    with pytest.raises(exc, match=pattern):
        backend.StreamParser(tools=tools)


def test_toolset_check_directly() -> None:
    ts = hs.ToolSet([tool("f", obj({"a": {"type": "integer"}}, required=["a"]))])
    assert ts.check("f", '{"a": 1}') is None
    assert ts.check("f", "{}") == "schema: /: required: 'a' is a required property"
    assert ts.check("g", "{}") == "unknown tool g"
    assert ts.unknown("f") is None and ts.unknown("g") == "unknown tool g"
