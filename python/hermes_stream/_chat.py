"""What the native chat-template renderer (``_render.py``) and the pure-Python reference
(``reference/chat_template.py``) share: the model table, option checks, ``TemplateError``, and the
conversion transformers applies to template inputs before Jinja sees them.

transformers (5.x) ``apply_chat_template`` first drops every message key whose value is ``None``,
then rebuilds all template inputs out of plain data (``_plain_template_data`` in
``transformers/utils/chat_template_utils.py``): str/int/float subclasses become the base type,
mappings become dicts, dataclasses and pydantic models become dicts, numpy scalars become Python
scalars, and anything else becomes the placeholder string ``"<TypeName>"``. ``template_data`` below
is that function; the renderers see exactly what the Jinja template would see.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import Any

from . import models as _models

__all__ = [
    "MODELS",
    "TemplateError",
    "check_thinking_system",
    "resolve_model",
    "template_data",
    "template_messages",
    "template_tools",
]


class TemplateError(ValueError):
    """The official chat template raises on this input (the message says which message and why).

    Raised by :func:`hermes_stream.render` where transformers' Jinja rendering of the official
    template raises (for example ``thinking=True`` with an earlier assistant turn lacking
    ``</think>``, or a message whose content is missing where the template concatenates it).
    """


#: model name -> (Llama-3 format?, default bos_token), derived from the model table in
#: ``models.py``. The 70B, 405B and 4.3-36B templates are one file; 4.3-36B uses the Seed-OSS
#: vocabulary, whose bos the caller must give.
MODELS: dict[str, tuple[bool, str | None]] = {
    name: (info.format == "llama3", info.bos_token) for name, info in _models.MODELS.items()
}


def resolve_model(model: str, bos_token: str | None) -> tuple[bool, str | None]:
    """(is the Llama-3 format, bos_token to use); accepts ``NousResearch/Hermes-4-14B`` spellings."""
    entry = MODELS.get(model)
    if entry is None:
        if not isinstance(model, str):
            raise TypeError(f"model must be a str, got {type(model).__name__}")
        key = model.lower()
        if key.startswith("nousresearch/"):
            key = key[len("nousresearch/"):]
        entry = MODELS.get(key)
        if entry is None:
            raise ValueError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
        model = key
    llama3, default_bos = entry
    if not llama3:
        return False, None  # the ChatML template never reads bos_token
    if bos_token is None:
        if default_bos is None:
            raise TemplateError(
                f"{model} needs bos_token=...: its template starts with the tokenizer's bos token "
                "(Seed-OSS vocabulary), which has no default here"
            )
        return True, default_bos
    if not isinstance(bos_token, str):
        raise TypeError(f"bos_token must be a str, got {type(bos_token).__name__}")
    return True, str.__str__(bos_token)


def check_thinking_system(value: str | None) -> bool:
    """``thinking_system``: None (official behaviour) or "append" (the documented extension)."""
    if value is None:
        return False
    if value == "append":
        return True
    raise ValueError(f"thinking_system must be None or 'append', got {value!r}")


def template_data(value: Any) -> Any:
    """transformers' ``_plain_template_data``: the plain data a chat template is given."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, Mapping):
        return {template_data(k): template_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [template_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(template_data(v) for v in value)
    np = sys.modules.get("numpy")  # a numpy scalar can only exist if numpy is imported
    if np is not None and isinstance(value, np.generic):
        return template_data(value.item())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: template_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if callable(getattr(value, "model_dump", None)):
        return template_data(value.model_dump())
    return f"<{type(value).__name__}>"


def template_messages(messages: Any) -> list[dict[str, Any]]:
    """The messages as the template sees them: None-valued keys dropped, then plain data."""
    if not isinstance(messages, (list, tuple)):
        raise TypeError(f"messages must be a list of dicts, got {type(messages).__name__}")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise TypeError(f"message {i} must be a dict, got {type(message).__name__}")
        out.append(template_data({k: v for k, v in message.items() if v is not None}))
    return out


def template_tools(tools: Any) -> list[Any] | None:
    """The tools as the template sees them (JSON schemas as dicts; functions are not converted)."""
    if tools is None:
        return None
    if not isinstance(tools, (list, tuple)):
        raise TypeError(f"tools must be a list of dicts, got {type(tools).__name__}")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise TypeError(
                f"tools[{i}] must be a dict (a JSON schema), got {type(tool).__name__}; convert "
                "functions with transformers.utils.get_json_schema"
            )
    return template_data(list(tools))  # type: ignore[no-any-return]
