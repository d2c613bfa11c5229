"""Tool-argument checks against OpenAI tool ``parameters`` (a JSON Schema subset), shared by both
backends.

``ToolSet(tools)`` compiles a tool list once; parsers built with the same ``ToolSet`` share it.
Checks run once per completed call, off the per-delta path (when ``message`` is read), so they
cost nothing per token. Supported keywords: ``type`` (a name or a list, ``integer`` vs ``number``,
``null``), ``nullable``, ``properties``, ``required``, ``additionalProperties`` (bool or schema),
``enum``, ``const``, ``items``, ``anyOf``, ``oneOf``. Unknown keywords are ignored.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

_TYPES = ("string", "number", "integer", "boolean", "object", "array", "null")


def _is_type(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "object":
        return isinstance(value, dict)
    if name == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if name == "integer":
        return isinstance(value, int) or (math.isfinite(value) and value == int(value))
    return True  # number


def _same(a: Any, b: Any) -> bool:
    """JSON equality (``1 == true`` is False; ``1 == 1.0`` is True)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b) and (isinstance(a, (int, float)) == isinstance(b, (int, float)))


def _pointer_part(key: str | int) -> str:
    return "/" + str(key).replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Node:
    types: tuple[str, ...] | None
    properties: Mapping[str, _Node]
    required: tuple[str, ...]
    additional: _Node | bool
    enum: tuple[Any, ...] | None
    const: tuple[Any] | None
    items: _Node | None
    any_of: tuple[_Node, ...]
    one_of: tuple[_Node, ...]

    def check(self, value: Any, ptr: str) -> str | None:
        """None when ``value`` conforms, else ``"<pointer>: <rule broken>"``."""
        where = ptr or "/"
        if self.types is not None and not any(_is_type(value, t) for t in self.types):
            return f"{where}: expected {' or '.join(self.types)}"
        if self.const is not None and not _same(value, self.const[0]):
            return f"{where}: must equal const {json.dumps(self.const[0])}"
        if self.enum is not None and not any(_same(value, e) for e in self.enum):
            return f"{where}: not one of enum {json.dumps(list(self.enum))}"
        if isinstance(value, dict):
            for key in self.required:
                if key not in value:
                    return f"{where}: missing required property {json.dumps(key)}"
            for key, item in value.items():
                sub = self.properties.get(key)
                if sub is None:
                    if self.additional is False:
                        return f"{where}: additional property {json.dumps(key)} not allowed"
                    if self.additional is True:
                        continue
                    sub = self.additional
                err = sub.check(item, ptr + _pointer_part(key))
                if err:
                    return err
        if isinstance(value, list) and self.items is not None:
            for i, item in enumerate(value):
                err = self.items.check(item, ptr + _pointer_part(i))
                if err:
                    return err
        if self.any_of and all(n.check(value, ptr) for n in self.any_of):
            return f"{where}: matches none of anyOf"
        if self.one_of:
            matches = sum(1 for n in self.one_of if n.check(value, ptr) is None)
            if matches != 1:
                return f"{where}: matches {matches} of oneOf, expected exactly 1"
        return None


_ANY = _Node(None, {}, (), True, None, None, None, (), ())


def _compile(schema: Any, path: str) -> _Node:
    if schema is True or schema is None:
        return _ANY
    if not isinstance(schema, dict):
        raise ValueError(f"{path}: a schema must be an object, got {type(schema).__name__}")
    t = schema.get("type")
    types: tuple[str, ...] | None
    if t is None:
        types = None
    else:
        types = (t,) if isinstance(t, str) else tuple(t)
        for name in types:
            if name not in _TYPES:
                raise ValueError(f"{path}: unknown type {name!r}")
        if schema.get("nullable") is True and "null" not in types:
            types = types + ("null",)
    props = schema.get("properties", {})
    if not isinstance(props, dict):
        raise ValueError(f"{path}: properties must be an object")
    add = schema.get("additionalProperties", True)
    items = schema.get("items")
    enum = schema.get("enum")
    return _Node(
        types=types,
        properties={k: _compile(v, f"{path}/properties/{k}") for k, v in props.items()},
        required=tuple(schema.get("required") or ()),
        additional=add if isinstance(add, bool) else _compile(add, f"{path}/additionalProperties"),
        enum=None if enum is None else tuple(enum),
        const=(schema["const"],) if "const" in schema else None,
        items=_compile(items, f"{path}/items") if isinstance(items, dict) else None,
        any_of=tuple(_compile(s, f"{path}/anyOf") for s in schema.get("anyOf") or ()),
        one_of=tuple(_compile(s, f"{path}/oneOf") for s in schema.get("oneOf") or ()),
    )


class ToolSet:
    """A compiled OpenAI tool list; share one between many parsers.

    Accepts ``[{"type": "function", "function": {"name", "parameters"}}]`` entries or bare
    ``{"name", "parameters"}`` dicts.
    """

    def __init__(self, tools: Iterable[Mapping[str, Any]]) -> None:
        compiled: dict[str, _Node] = {}
        for i, tool in enumerate(tools):
            if not isinstance(tool, Mapping):
                raise TypeError(f"tools[{i}] must be a dict, got {type(tool).__name__}")
            fn = tool.get("function", tool)
            name = fn.get("name") if isinstance(fn, Mapping) else None
            if not isinstance(name, str) or not name:
                raise ValueError(f"tools[{i}] has no function name")
            compiled[name] = _compile(fn.get("parameters"), f"tools[{i}].parameters")
        self._nodes = compiled
        self.names = frozenset(compiled)

    def check(self, name: str, arguments: str) -> str | None:
        """None when ``arguments`` (JSON text of an object) satisfy the tool's schema."""
        node = self._nodes.get(name)
        if node is None:
            return f"unknown tool {name}"
        try:
            value = json.loads(arguments)
        except (ValueError, RecursionError) as exc:  # e.g. 1e999999 is fine; this is a guard
            return f"arguments are not valid JSON: {exc}"
        err = node.check(value, "")
        return None if err is None else f"schema: {err}"
