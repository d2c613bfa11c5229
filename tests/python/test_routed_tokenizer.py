"""``wrap_tokenizer``: the tokenizer of vLLM's ``--tokenizer-mode hermes_stream``, without vLLM.

The routed tokenizer's ``apply_chat_template`` goes through ``hs.apply_chat_template`` (native
render, prompt-token cache) and must give exactly what the tokenizer's own method gives, on every
path: native, delegated (unknown template, unsupported option), nested calls (the one-time probe),
and after the copies and pickling that vLLM's tokenizer pool and processes make. The engine-level
check (vLLM's registries, then prompt ids through a real ``vllm serve``) is in tests/serve/.
"""

from __future__ import annotations

import copy
import pickle
from pathlib import Path
from typing import Any

import pytest

import hermes_stream as hs
from hermes_stream.integrations.vllm_tokenizer import wrap_tokenizer

QWEN3 = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "tokenizers" / "qwen3"
TEMPLATE = (Path(__file__).resolve().parents[1] / "data" / "chat_templates"
            / "hermes-4-14b.jinja").read_text()
CONV = [
    {"role": "user", "content": "Weather in Paris? <think>"},
    {"role": "assistant", "content": "<think>x</think>", "tool_calls": [
        {"type": "function", "function": {"name": "w", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": "18 °C"},
]


@pytest.fixture(scope="module")
def plain() -> Any:
    pytest.importorskip("transformers", reason="the routed tokenizer is a transformers tokenizer")
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent: the routed tokenizer is checked on the Qwen3 vocabulary")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(QWEN3))


@pytest.mark.parametrize("kwargs", [
    {"chat_template": TEMPLATE, "tokenize": True, "return_dict": False,
     "add_generation_prompt": True},
    {"chat_template": TEMPLATE, "tokenize": False, "thinking": True},
    {"chat_template": TEMPLATE, "tokenize": True, "continue_final_message": True},
    {"chat_template": "{{ messages[0]['content'] }}", "tokenize": True, "return_dict": False},
], ids=["native-ids", "native-text", "delegated-option", "delegated-template"])
def test_routed_equals_plain(plain: Any, kwargs: dict[str, Any]) -> None:
    routed = wrap_tokenizer(copy.copy(plain))
    assert type(routed) is not type(plain) and isinstance(routed, type(plain))
    assert wrap_tokenizer(routed) is routed and type(wrap_tokenizer(routed)) is type(routed)
    conv = CONV[:1] if "continue_final_message" in kwargs else CONV
    expected = plain.apply_chat_template(conv, **kwargs)
    for tok in (routed, copy.copy(routed), copy.deepcopy(routed)):
        assert type(tok) is type(routed) or type(tok).__name__ == type(routed).__name__
        got = tok.apply_chat_template(conv, **kwargs)
        assert got == expected


def test_native_path_is_taken(plain: Any) -> None:
    routed = wrap_tokenizer(copy.copy(plain))
    cache = hs.prompt_token_cache()
    before = cache.stats()["hits"] + cache.stats()["misses"]
    routed.apply_chat_template(CONV, chat_template=TEMPLATE, return_dict=False)
    assert cache.stats()["hits"] + cache.stats()["misses"] > before  # went through the cache


def test_routing_survives_pickling(plain: Any) -> None:
    """vLLM's cached tokenizers pickle by re-wrapping the original: routing is kept."""
    base = type(plain)
    inner = copy.copy(plain)
    cached_cls = type(f"Cached{base.__name__}", (base,), {
        "__reduce__": lambda self: (copy.copy, (inner,))})
    cached = copy.copy(plain)
    cached.__class__ = cached_cls
    routed = wrap_tokenizer(cached)
    expected = plain.apply_chat_template(CONV, chat_template=TEMPLATE, return_dict=False)
    for clone in (pickle.loads(pickle.dumps(routed)), copy.deepcopy(routed)):
        assert getattr(type(clone), "_hermes_stream_routed", False)
        assert clone.apply_chat_template(CONV, chat_template=TEMPLATE,
                                         return_dict=False) == expected
