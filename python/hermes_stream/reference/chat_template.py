"""Pure-Python reference of the Hermes 4 chat templates, written to be read.

Mirrors ``cpp/hermes_stream/chat_template.{h,cc}`` (the native renderer).

``render()`` follows the official Jinja templates statement by statement (the template line is
quoted above each block), with Jinja's value semantics spelled out:

* a missing message key is *undefined* (transformers also drops keys whose value is ``None``):
  it is falsy and prints as ``""``, but ``'...' + undefined`` raises;
* ``{{ value }}`` prints ``str(value)``; ``+`` only joins strings;
* ``tojson`` is transformers' filter, ``json.dumps(x, ensure_ascii=False)``;
* the template files' trailing newlines never reach the output (``keep_trailing_newline=False``
  and ``trim_blocks``), so nothing follows the generation prompt.

The two formats differ only in their literal strings (``CHATML`` and ``LLAMA3`` below). Where the
template raises, ``render()`` raises :class:`hermes_stream.TemplateError` naming the message.
The native renderer (``cpp/hermes_stream/chat_template.cc``) must give the same output and the
same errors for every input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._chat import (
    TemplateError,
    check_thinking_system,
    resolve_model,
    template_messages,
    template_tools,
)

__all__ = ["CHATML", "LLAMA3", "STANDARD_PROMPT", "THINKING_PROMPT", "render"]

THINKING_PROMPT = (
    "You are a deep thinking AI, you may use extremely long chains of thought to deeply consider "
    "the problem and deliberate with yourself via systematic reasoning processes to help come to "
    "a correct solution prior to answering. You should enclose your thoughts and internal "
    "monologue inside <think> </think> tags, and then provide your solution or response to the "
    "problem."
)
STANDARD_PROMPT = "You are Hermes, created by Nous Research."
TOOLS_INTRO = (
    "\n\n# Tools\n\nYou are a function calling AI model. You may call one or more functions to "
    "assist with the user query.\n\nYou are provided with function signatures within "
    "<tools></tools> XML tags:\n<tools>"
)
TOOLS_OUTRO = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments "
    'within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": "<function-name>", '
    '"arguments": <args-json-object>}\n</tool_call>'
)


@dataclass(frozen=True)
class Format:
    """The literal strings of one template file."""

    bos: bool  # the system header starts with bos_token
    open: str  # before a user/system role name
    after_role: str  # after it
    end: str  # end of a turn
    tools_system: str  # system header, tools branch
    plain_system: str  # system header, no-tools branch
    assistant: str  # assistant header; content follows as '\n' + content
    tool_open: str  # the user turn holding tool responses
    generation: str  # add_generation_prompt


#: hermes-4-14b.jinja
CHATML = Format(
    bos=False,
    open="<|im_start|>",
    after_role="\n",
    end="<|im_end|>\n",
    tools_system="<|im_start|>system\n",
    plain_system="<|im_start|>system\n",
    assistant="<|im_start|>assistant",
    tool_open="<|im_start|>user",
    generation="<|im_start|>assistant\n",
)
#: hermes-4-70b.jinja = hermes-4-405b.jinja = hermes-4.3-36b.jinja
LLAMA3 = Format(
    bos=True,
    open="<|start_header_id|>",
    after_role="<|end_header_id|>\n\n",
    end="<|eot_id|>",
    tools_system="<|start_header_id|>system<|end_header_id|>\n",
    plain_system="<|start_header_id|>system<|end_header_id|>\n\n",
    assistant="<|start_header_id|>assistant<|end_header_id|>\n",
    tool_open="<|start_header_id|>user<|end_header_id|>\n",
    generation="<|start_header_id|>assistant<|end_header_id|>\n\n",
)


class _Undefined:
    """Jinja's undefined value: falsy, prints as ""; ``+`` with it raises (see _concat)."""

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return ""


UNDEFINED: Any = _Undefined()


def _get(message: Any, key: str) -> Any:
    """``message.key`` / ``message['key']`` on a message dict (undefined when missing)."""
    return message.get(key, UNDEFINED) if isinstance(message, dict) else UNDEFINED


def _fail(index: int, role: str, why: str) -> TemplateError:
    return TemplateError(f"message {index} ({role}): {why}")


def _concat(content: Any, index: int, role: str) -> str:
    """``'...' + message.content + '...'``: only a str joins."""
    if isinstance(content, str):
        return content
    if content is UNDEFINED:
        raise _fail(index, role, "content is missing or None, and the template concatenates it with +")
    raise _fail(
        index, role,
        f"content must be a str (the template concatenates it with +), got {type(content).__name__}",
    )


def _tojson(value: Any, what: str) -> str:
    """transformers' ``tojson`` filter."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"{what} cannot be serialised by tojson: {exc}") from exc


def _assistant_content(content: str, index: int, thinking: bool, keep_cots: bool) -> str:
    """``'\\n' + content`` after the template's reasoning strip:

    {%- set content = message['content'] -%}
    {%- if thinking %}{%- if not keep_cots %}
        {%- set content = '<think> </think>' + content.split('</think>', 1)[1] -%}
    """
    if thinking and not keep_cots:
        if not isinstance(content, str):
            raise _fail(
                index, "assistant",
                "content must be a str (with thinking=True and keep_cots=False the template calls "
                f"content.split('</think>', 1) on it), got {type(content).__name__}",
            )
        parts = content.split("</think>", 1)
        if len(parts) < 2:
            raise _fail(
                index, "assistant",
                "content has no '</think>': with thinking=True and keep_cots=False the template "
                "keeps only the text after it (content.split('</think>', 1)[1]) and raises without "
                "it; pass keep_cots=True or include the turn's reasoning",
            )
        content = "<think> </think>" + parts[1]
    return "\n" + _concat(content, index, "assistant")


def _tool_call(call: Any, index: int, j: int) -> str:
    """One iteration of ``{%- for tool_call in message.tool_calls %}``."""
    which = f"tool call {j}"
    # {%- if tool_call.function is defined %}{%- set tool_call = tool_call.function %}
    if not isinstance(call, dict):
        raise _fail(
            index, "assistant",
            f"{which} must be an object with 'name' and 'arguments', got {type(call).__name__}",
        )
    if "function" in call:
        call = call["function"]
        if not isinstance(call, dict):
            raise _fail(
                index, "assistant",
                f"{which}: 'function' must be an object with 'name' and 'arguments', "
                f"got {type(call).__name__}",
            )
    if "arguments" not in call:  # `undefined | tojson` raises
        raise _fail(index, "assistant", f"{which} has no 'arguments'")
    # '\n<tool_call>\n{"name": "' ~ tool_call.name ~ '", "arguments": ' ~ (arguments|tojson) ~ '}...'
    name = str(call.get("name", UNDEFINED))
    arguments = _tojson(call["arguments"], f"message {index} (assistant): {which} arguments")
    return '\n<tool_call>\n{"name": "' + name + '", "arguments": ' + arguments + "}\n</tool_call>"


def render(
    messages: Sequence[Mapping[str, Any]],
    *,
    model: str = "hermes-4-14b",
    tools: Sequence[Mapping[str, Any]] | None = None,
    thinking: bool = False,
    keep_cots: bool = False,
    add_generation_prompt: bool = False,
    bos_token: str | None = None,
    thinking_system: str | None = None,
) -> str:
    """Render ``messages`` with the official Hermes 4 template of ``model`` (pure Python).

    Same API and output as :func:`hermes_stream.render`.
    """
    llama3, bos = resolve_model(model, bos_token)
    append_thinking = check_thinking_system(thinking_system)
    msgs = template_messages(messages)
    tool_list = template_tools(tools)
    fmt = LLAMA3 if llama3 else CHATML
    thinking, keep_cots = bool(thinking), bool(keep_cots)
    out: list[str] = []

    def bos_token_() -> str:
        if bos is None:
            raise TemplateError("bos_token is undefined: the Llama-3 format starts with it")
        return bos

    def first_message() -> dict[str, Any]:
        if not msgs:
            raise TemplateError("messages is empty: the template reads messages[0]")
        return msgs[0]

    def with_thinking(system: str) -> str:
        # Extension, off by default: thinking_system="append".
        if append_thinking and thinking:
            return system + "\n\n" + THINKING_PROMPT if system else THINKING_PROMPT
        return system

    # {%- if thinking %}{%- set system_prompt = thinking_prompt %}{%- else %} standard_prompt
    system_prompt = THINKING_PROMPT if thinking else STANDARD_PROMPT

    if tool_list:  # {%- if tools %}
        if fmt.bos:
            out.append(bos_token_())
        out.append(fmt.tools_system)
        first = first_message()
        if _get(first, "role") == "system":  # {{- messages[0]['content'] }}
            out.append(with_thinking(str(_get(first, "content"))))
        else:
            out.append(system_prompt)
        out.append(TOOLS_INTRO)
        for i, tool in enumerate(tool_list):  # {{- "\n" }}{{- tool | tojson }}
            out.append("\n" + _tojson(tool, f"tools[{i}]"))
        out.append(TOOLS_OUTRO + fmt.end)
    else:
        first = first_message()
        if _get(first, "role") == "system":
            # bos_token + header + messages[0]['content'] + end
            prefix = bos_token_() if fmt.bos else ""
            out.append(prefix + fmt.plain_system)
            out.append(with_thinking(_concat(_get(first, "content"), 0, "system")) + fmt.end)
        else:
            prefix = bos_token_() if fmt.bos else ""
            out.append(prefix + fmt.plain_system + system_prompt + fmt.end)

    last = len(msgs) - 1
    for index, message in enumerate(msgs):  # {%- for message in messages %}
        role = _get(message, "role")
        content = _get(message, "content")
        # {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        if role == "user" or (role == "system" and index > 0):
            out.append(fmt.open + role + fmt.after_role + _concat(content, index, role) + fmt.end)
        # {%- elif (message.role == "assistant" and not message.tool_calls) %}
        elif role == "assistant" and not _get(message, "tool_calls"):
            out.append(fmt.assistant)
            if content:  # {%- if message.content %}; without content: the header alone
                out.append(_assistant_content(content, index, thinking, keep_cots) + fmt.end)
        # {%- elif message.role == "assistant" %}
        elif role == "assistant":
            out.append(fmt.assistant)
            if content:
                out.append(_assistant_content(content, index, thinking, keep_cots))
            tool_calls = _get(message, "tool_calls")
            if not isinstance(tool_calls, (list, tuple)):  # iterating it raises (or yields junk)
                raise _fail(
                    index, "assistant", f"tool_calls must be a list, got {type(tool_calls).__name__}"
                )
            for j, call in enumerate(tool_calls):
                out.append(_tool_call(call, index, j))
            out.append(fmt.end)
        # {%- elif message.role == "tool" %}
        elif role == "tool":
            if index == 0 or _get(msgs[index - 1], "role") != "tool":
                out.append(fmt.tool_open)
            out.append("\n<tool_response>\n" + str(content) + "\n</tool_response>")
            if index == last or _get(msgs[index + 1], "role") != "tool":
                out.append(fmt.end)
    if add_generation_prompt:  # {%- if add_generation_prompt %}
        out.append(fmt.generation)
    return "".join(out)
