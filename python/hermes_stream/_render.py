"""Native Hermes 4 chat templates: ``render()`` and the drop-in ``apply_chat_template()``.

``render()`` makes one native call (``_core.render_chat``): the glue reads the messages and tools
(exact built-in types), serialises tools and tool-call arguments as transformers' ``tojson`` does,
and the C++ core builds the prompt with the GIL released. Inputs the glue does not take natively
(dict subclasses, enums, dataclasses, strings with lone surrogates, ...) are rendered by the
pure-Python reference (``hermes_stream.reference.render``), which applies transformers' own input
conversion; the output is the same either way.

``apply_chat_template(tokenizer, conversation, **kwargs)`` takes the native path only when the
tokenizer's chat template is byte-identical (sha256) to an official Hermes 4 template, every
argument is one it reproduces, and the installed transformers behaves as the one this was checked
against (a one-time probe per tokenizer class). Anything else, including every input on which the
template raises, goes to ``tokenizer.apply_chat_template`` unchanged, so results (and exceptions)
are always transformers' own.
"""

from __future__ import annotations

import hashlib
import inspect
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from . import _core
from ._chat import TemplateError, check_thinking_system, resolve_model
from ._token_cache import TokenizerProfile, prompt_token_cache

__all__ = ["HERMES_TEMPLATE_SHA256", "TemplateError", "apply_chat_template", "render"]

_core.set_template_error(TemplateError)

#: (model, bos_token) -> resolve_model() result, for the valid pairs seen so far.
_resolved: dict[tuple[Any, Any], tuple[bool, str | None]] = {}


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
    """Render a conversation with the official Hermes 4 chat template of ``model``, natively.

    The result is byte-identical to ``tokenizer.apply_chat_template(messages, tools=tools,
    tokenize=False, add_generation_prompt=..., thinking=..., keep_cots=...)`` in transformers
    with that template.

    Args:
        messages: OpenAI-style messages (``role``, ``content``, ``tool_calls`` with ``function``
            wrappers or not, arguments as dicts or JSON strings, ``tool`` results).
        model: ``"hermes-4-14b"`` (ChatML) or ``"hermes-4-70b"``, ``"hermes-4-405b"``,
            ``"hermes-4.3-36b"`` (Llama-3 headers, one template).
        tools: JSON-schema tool list (dicts), serialised with transformers' ``tojson``.
        thinking: the template's ``thinking`` flag: picks the "deep thinking" default system
            prompt and, unless ``keep_cots``, strips the reasoning of earlier assistant turns.
        keep_cots: keep earlier turns' reasoning when ``thinking``.
        add_generation_prompt: end with the assistant header.
        bos_token: the Llama-3 format's first token; defaults to ``<|begin_of_text|>`` for 70B and
            405B, required for 4.3-36B (Seed-OSS vocabulary); ignored by the 14B template.
        thinking_system: ``None`` (official behaviour: with your own system message ``thinking``
            does not change it) or ``"append"`` (extension: append the thinking prompt to your
            system message). See docs/design.md.

    Raises:
        TemplateError: where the official template raises; the message names the message.
        TypeError, ValueError: bad arguments (unknown model, non-dict messages or tools).
    """
    try:
        llama3, bos = _resolved[model, bos_token]
    except (KeyError, TypeError):  # first use of this pair, or an unhashable (invalid) argument
        llama3, bos = resolve_model(model, bos_token)
        if len(_resolved) < 64:
            _resolved[model, bos_token] = (llama3, bos)
    append = False if thinking_system is None else check_thinking_system(thinking_system)
    # The flags' truthiness is read natively (PyObject_IsTrue, what bool() does).
    out = _core.render_chat(
        messages, tools, llama3, bos, thinking, keep_cots, add_generation_prompt, append)
    if out is None:  # an input the glue leaves to Python: same output, Python speed
        from .reference.chat_template import render as reference_render

        return reference_render(
            messages, model=model, tools=tools, thinking=thinking, keep_cots=keep_cots,
            add_generation_prompt=add_generation_prompt, bos_token=bos_token,
            thinking_system=thinking_system,
        )
    return out


# --------------------------------------------------------------------- apply_chat_template

#: sha256 of the official template text -> is the Llama-3 format. The 70B, 405B and 4.3-36B
#: templates are byte-identical (see ../shared/reference/SOURCES.md).
HERMES_TEMPLATE_SHA256: dict[str, bool] = {
    "6a0543ce2179f4b132ec309a37a6d2889cfb889fbf8ec343cfd26d4f6c2a710e": False,  # hermes-4-14b
    "89116c1ac22ce005afdf1772cb40644c1529af6a91300cf655566d10274d4175": True,  # 70b/405b/4.3-36b
}

_UNKNOWN = object()
_template_kind: dict[str, Any] = {}  # template text -> True/False, or _UNKNOWN


def _kind(template: str) -> Any:
    kind = _template_kind.get(template)
    if kind is None:
        try:
            digest = hashlib.sha256(template.encode("utf-8")).hexdigest()
        except UnicodeEncodeError:
            digest = ""
        kind = HERMES_TEMPLATE_SHA256.get(digest, _UNKNOWN)
        if len(_template_kind) >= 64:
            _template_kind.clear()
        _template_kind[template] = kind
    return kind


#: apply_chat_template parameters reproduced natively (others passed explicitly mean fallback).
_HANDLED = frozenset({
    "tools", "documents", "chat_template", "add_generation_prompt", "continue_final_message",
    "tokenize", "sanitize_control_tokens", "padding", "truncation", "max_length",
    "return_tensors", "return_dict", "return_assistant_tokens_mask", "tokenizer_kwargs",
})
#: Template variables that could not be passed through Template.render(**kwargs) unchanged.
_RESERVED_TEMPLATE_VARS = frozenset({"messages", "self"})
#: Values whose Jinja truthiness is Python's bool() (after transformers' conversion).
_FLAG_TYPES = (bool, int, float, str, type(None))

# transformers' behaviour the native path relies on, checked once per tokenizer class: None-valued
# message keys are dropped, template inputs are reduced to plain data, tojson is json.dumps with
# ensure_ascii=False and no key sorting, and trim_blocks/lstrip_blocks are on.
_PROBE_TEMPLATE = (
    "{{ messages[0].content is defined }}|{{ {'b': 1.5, 'a': '\u00e9<'} | tojson }}|{{ probe }}\n"
    "  {% if true %}\n[x]\n  {% endif %}\n"
)
_PROBE_EXPECTED = 'False|{"b": 1.5, "a": "\u00e9<"}|<_Probe>\n[x]\n'
#: transformers before 5.23 (e.g. the 5.19 that vLLM 0.32 pins) hands the template its inputs as
#: they are: None-valued keys stay (defined, rendered "None") and objects are not converted.
#: The native path then takes only conversations without None-valued message keys (it already
#: takes only exact built-in types), where the two behaviours agree.
_PROBE_RAW_PREFIX = 'True|{"b": 1.5, "a": "\u00e9<"}|<' + __name__ + "._Probe object at "
#: Parameters that older transformers lack; absent, they are treated as False.
_OPTIONAL = frozenset({"sanitize_control_tokens"})


class _Probe:
    pass


class _Profile:
    __slots__ = ("defaults", "keeps_none", "params", "plain_get_chat_template")

    def __init__(self, params: frozenset[str], defaults: dict[str, Any], plain: bool,
                 keeps_none: bool) -> None:
        self.params = params
        self.defaults = defaults
        self.keeps_none = keeps_none  # None-valued message keys reach the template
        # get_chat_template is transformers' own: a str chat_template is returned as it is
        self.plain_get_chat_template = plain


_profiles: dict[type, _Profile | None] = {}


def _profile(tokenizer: Any) -> _Profile | None:
    cls = type(tokenizer)
    try:
        return _profiles[cls]
    except KeyError:
        pass
    prof = None
    try:
        params = inspect.signature(cls.apply_chat_template).parameters
        names = frozenset(params) - {"self", "conversation", "kwargs"}
        has_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        if (_HANDLED - _OPTIONAL) <= names and has_var_kw and callable(
                getattr(tokenizer, "get_chat_template", None)):
            defaults = {n: params[n].default if n in params else False for n in _HANDLED}
            probe = tokenizer.apply_chat_template(
                [{"role": "user", "content": None}], chat_template=_PROBE_TEMPLATE,
                tokenize=False, probe=_Probe(),
            )
            unsupported_by_default = (
                defaults["documents"] is not None or defaults["continue_final_message"]
                or defaults["sanitize_control_tokens"] or defaults["return_assistant_tokens_mask"])
            raw = (isinstance(probe, str) and probe.startswith(_PROBE_RAW_PREFIX)
                   and probe.endswith(">\n[x]\n") and probe.count("\n") == 2)
            if (probe == _PROBE_EXPECTED or raw) and not unsupported_by_default:
                base = getattr(sys.modules.get("transformers.tokenization_utils_base"),
                               "PreTrainedTokenizerBase", None)
                plain = base is not None and (
                    getattr(cls, "get_chat_template", None) is base.get_chat_template)
                prof = _Profile(names, defaults, plain, keeps_none=raw)
    except Exception:  # any surprise means: always delegate for this class
        prof = None
    _profiles[cls] = prof
    return prof


def _native(tokenizer: Any, conversation: Any, kwargs: dict[str, Any]) -> Any:
    """The native result, or _UNKNOWN when the call must go to the tokenizer."""
    try:
        prof = _profiles[type(tokenizer)]
    except KeyError:
        prof = _profile(tokenizer)
    if prof is None:
        return _UNKNOWN
    params, defaults = prof.params, prof.defaults
    template_vars: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in params:
            if key not in _HANDLED:
                return _UNKNOWN
        else:
            template_vars[key] = value
    opt = kwargs.get
    if (opt("documents", None) is not None
            or opt("continue_final_message", defaults["continue_final_message"])
            or opt("sanitize_control_tokens", defaults["sanitize_control_tokens"])
            or opt("return_assistant_tokens_mask", defaults["return_assistant_tokens_mask"])):
        return _UNKNOWN
    tools = opt("tools", defaults["tools"])
    chat_template = opt("chat_template", defaults["chat_template"])
    template = getattr(tokenizer, "chat_template", None)
    if (chat_template is not None or type(template) is not str
            or not prof.plain_get_chat_template):
        try:  # a named or explicit template, or a dict of templates
            template = tokenizer.get_chat_template(chat_template, tools)
        except Exception:  # let transformers raise its own error
            return _UNKNOWN
        if type(template) is not str:
            return _UNKNOWN
    llama3 = _kind(template)
    if llama3 is _UNKNOWN:
        return _UNKNOWN
    if template_vars:
        if not _RESERVED_TEMPLATE_VARS.isdisjoint(template_vars):
            return _UNKNOWN
        thinking = template_vars.get("thinking", False)
        keep_cots = template_vars.get("keep_cots", False)
        if type(thinking) not in _FLAG_TYPES or type(keep_cots) not in _FLAG_TYPES:
            return _UNKNOWN
    else:
        thinking = keep_cots = False
    generation = opt("add_generation_prompt", defaults["add_generation_prompt"])
    if type(generation) not in _FLAG_TYPES:
        return _UNKNOWN
    bos = None
    if llama3:
        bos = template_vars["bos_token"] if "bos_token" in template_vars else (
            tokenizer.special_tokens_map.get("bos_token"))
        if type(bos) is not str:
            return _UNKNOWN  # undefined or not a str: transformers raises
    if type(conversation) not in (list, tuple) or not conversation:
        return _UNKNOWN
    first = conversation[0]
    batched = type(first) is not dict and (
        isinstance(first, (list, tuple)) or hasattr(first, "messages"))
    rendered = []
    chats = conversation if batched else (conversation,)
    if prof.keeps_none and any(type(m) is dict and any(v is None for v in m.values())
                               for chat in chats for m in chat):
        return _UNKNOWN  # this transformers would show the None values to the template
    for chat in chats:
        # Tools that are not dicts (functions), non-dict messages, ...: None -> transformers.
        try:
            text = _core.render_chat(
                chat, tools, llama3, bos, thinking, keep_cots, generation, False)
        except TemplateError:
            return _UNKNOWN  # transformers raises its own error for it
        if text is None:
            return _UNKNOWN
        rendered.append(text)
    result: Any = rendered if batched else rendered[0]
    if not opt("tokenize", defaults["tokenize"]):
        return result
    as_dict = opt("return_dict", defaults["return_dict"])
    cached = None
    if not as_dict or tuple(tokenizer.model_input_names) == _DICT_KEYS:  # what the dict holds
        cached = _cached_ids(tokenizer, rendered, opt, defaults)
    if cached is not None:
        if not as_dict:
            return cached if batched else cached[0]
        ids = cached if batched else cached[0]
        mask = [[1] * len(x) for x in cached] if batched else [1] * len(cached[0])
        return _batch_encoding()({"input_ids": ids, "attention_mask": mask}, n_sequences=1)
    # As transformers does it: the rendered text already holds every special token.
    out = tokenizer(
        result, padding=opt("padding", defaults["padding"]),
        truncation=opt("truncation", defaults["truncation"]),
        max_length=opt("max_length", defaults["max_length"]), add_special_tokens=False,
        return_tensors=opt("return_tensors", defaults["return_tensors"]),
        **({"sanitize_control_tokens": False} if "sanitize_control_tokens" in params else {}),
        **(opt("tokenizer_kwargs", None) or {}),
    )
    return out if opt("return_dict", defaults["return_dict"]) else out["input_ids"]


#: The tokenizer arguments under which ``tokenizer(text)`` is the plain concatenation of ids.
_PLAIN_TOKENIZE = (
    ("padding", (False, None, "do_not_pad")),
    ("truncation", (False, None, "do_not_truncate")),
    ("max_length", (None,)),
    ("return_tensors", (None,)),
)


def _cached_ids(tokenizer: Any, rendered: list[str], opt: Any,
                defaults: dict[str, Any]) -> list[list[int]] | None:
    """The ids of the rendered texts from the prompt-token cache, or None when the cache's split
    rule is not exact for this tokenizer or the call asks for padding, truncation or tensors."""
    for name, plain in _PLAIN_TOKENIZE:
        value = opt(name, defaults[name])
        if type(value) not in (bool, str, type(None)) or value not in plain:
            return None
    if opt("tokenizer_kwargs", None):
        return None
    profile = TokenizerProfile.of(tokenizer)
    if profile is None:
        return None
    return prompt_token_cache().encode(profile, rendered)


_DICT_KEYS = ("input_ids", "attention_mask")


def _batch_encoding() -> Any:
    from transformers.tokenization_utils_base import BatchEncoding

    return BatchEncoding


def apply_chat_template(tokenizer: Any, conversation: Any, **kwargs: Any) -> Any:
    """Drop-in for ``tokenizer.apply_chat_template(conversation, **kwargs)``: the same result,
    rendered natively when the tokenizer's template is an official Hermes 4 template.

    The native path needs: a template byte-identical (sha256) to the 14B or the 70B/405B/4.3-36B
    template; no ``documents``, ``continue_final_message``, ``sanitize_control_tokens`` or
    ``return_assistant_tokens_mask``; tools given as dicts; ``thinking``/``keep_cots`` plain
    values; and a transformers that behaves as 5.x (checked once per tokenizer class). It supports
    ``tokenize=False/True``, ``return_dict``, ``add_generation_prompt``, ``tools``, ``thinking``,
    ``keep_cots``, ``bos_token``, batches, and the tokenizer arguments (``padding``,
    ``truncation``, ``max_length``, ``return_tensors``, ``tokenizer_kwargs``), which go to the
    tokenizer exactly as transformers passes them. Everything else, and every input on which the
    template raises, is delegated unchanged to ``tokenizer.apply_chat_template``.
    """
    result = _native(tokenizer, conversation, kwargs)
    if result is _UNKNOWN:
        return tokenizer.apply_chat_template(conversation, **kwargs)
    return result
