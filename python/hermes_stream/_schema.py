"""Tool-argument checks against OpenAI tool ``parameters`` (JSON Schema), shared by both backends.

``ToolSet(tools)`` compiles a tool list once (one ``jsonschema`` validator per tool); parsers built
with the same ``ToolSet`` share it. Checks run once per completed call, off the per-delta path
(when ``message`` is read), so they cost nothing per token (bench/test_schema.py: the cost per
checked call).

Validation is the ``jsonschema`` library's, with the draft the schema names in ``$schema`` and
Draft 2020-12 otherwise (OpenAI tool lists name none; pydantic's schemas are 2020-12): every
keyword, ``$ref`` into ``$defs`` / ``definitions``, and ``format`` asserted for the formats
jsonschema can check. One extension: OpenAPI's ``nullable: true`` (used in OpenAI tool lists) also
admits ``null`` where ``type`` is given. An invalid schema is a ``ValueError`` when the ToolSet is
built. A failing call's error is ``"schema: <JSON pointer of the failing value>: <keyword>:
<jsonschema's message>"``; when several keywords fail, jsonschema's ``best_match`` picks one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import jsonschema
from jsonschema import exceptions, validators

__all__ = ["ToolSet"]

_DEFAULT = jsonschema.Draft202012Validator


def _pointer(path: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


def _with_nullable(cls: Any) -> Any:
    """``cls`` whose ``type`` keyword also admits ``null`` next to ``nullable: true``."""
    type_keyword = cls.VALIDATORS["type"]

    def type_or_null(validator: Any, types: Any, instance: Any, schema: Any) -> Iterator[Any]:
        if instance is None and schema.get("nullable") is True:
            return
        yield from type_keyword(validator, types, instance, schema)

    return validators.extend(cls, {"type": type_or_null})  # type: ignore[no-untyped-call]


_EXTENDED: dict[Any, Any] = {}


def _validator(schema: Any, where: str) -> Any:
    if schema is None:
        schema = {}
    if not isinstance(schema, (dict, bool)):
        raise ValueError(f"{where}: a schema must be an object, got {type(schema).__name__}")
    cls = validators.validator_for(schema, default=_DEFAULT)
    try:
        cls.check_schema(schema)  # type: ignore[arg-type]  # types-jsonschema: dict only, but
        # a boolean schema is valid JSON Schema and jsonschema accepts it
    except exceptions.SchemaError as exc:
        raise ValueError(
            f"{where} is not a valid JSON Schema at {_pointer(exc.absolute_path)}: {exc.message}"
        ) from None
    if cls not in _EXTENDED:
        _EXTENDED[cls] = _with_nullable(cls)
    return _EXTENDED[cls](schema, format_checker=cls.FORMAT_CHECKER)


class ToolSet:
    """A compiled OpenAI tool list; share one between many parsers.

    Accepts ``[{"type": "function", "function": {"name", "parameters"}}]`` entries or bare
    ``{"name", "parameters"}`` dicts.
    """

    def __init__(self, tools: Iterable[Mapping[str, Any]]) -> None:
        compiled: dict[str, Any] = {}
        for i, tool in enumerate(tools):
            if not isinstance(tool, Mapping):
                raise TypeError(f"tools[{i}] must be a dict, got {type(tool).__name__}")
            fn = tool.get("function", tool)
            name = fn.get("name") if isinstance(fn, Mapping) else None
            if not isinstance(name, str) or not name:
                raise ValueError(f"tools[{i}] has no function name")
            compiled[name] = _validator(fn.get("parameters"), f"tools[{i}].parameters")
        self._validators = compiled
        self.names = frozenset(compiled)

    def unknown(self, name: str) -> str | None:
        """The error of a call to ``name`` when no tool has that name, else None (the parsers
        decide this once, when the call's name is read: the reference here, the core in C++)."""
        return None if name in self._validators else f"unknown tool {name}"

    def check(self, name: str, arguments: str) -> str | None:
        """None when ``arguments`` (JSON text of an object) satisfy the tool's schema."""
        validator = self._validators.get(name)
        if validator is None:
            return self.unknown(name)
        try:
            value = json.loads(arguments)
        except (ValueError, RecursionError) as exc:  # the parser validated it: a guard only
            return f"arguments are not valid JSON: {exc}"
        try:
            error = exceptions.best_match(validator.iter_errors(value))
        except RecursionError:  # a schema whose $ref chain never ends, or absurd nesting
            return "schema: /: too deeply nested to check"
        if error is None:
            return None
        return f"schema: {_pointer(error.absolute_path)}: {error.validator}: {error.message}"
