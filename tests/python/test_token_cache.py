"""The exact prompt-token cache behind ``hs.apply_chat_template(..., tokenize=True)``.

Every result is compared with ``tokenizer.apply_chat_template(..., tokenize=True)`` of the real
Qwen3 (ChatML, Hermes-4-14B template) and Llama-3 (tiktoken ranks, Hermes-4-70B template)
vocabularies from ``../shared/reference``, on Hypothesis conversations whose text holds added-token
strings and whitespace at the split points; tokenizers whose added-token flags make the split
inexact must take the tokenizer's own path.
"""

from __future__ import annotations

import copy
import functools
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hermes_stream as hs
from hermes_stream._token_cache import PromptTokenCache, TokenizerProfile
from hermes_stream._vocab import LLAMA3_PATTERN, LLAMA3_SPECIAL_TOKENS

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "data" / "chat_templates"
CHATML = (TEMPLATE_DIR / "hermes-4-14b.jinja").read_text()
LLAMA3 = (TEMPLATE_DIR / "hermes-4-70b.jinja").read_text()

def _need(path: Path) -> Path:
    pytest.importorskip("transformers", reason="the cache is compared with transformers (Python >= 3.11)")
    if not path.exists():
        pytest.skip(f"{path} is absent: the token-cache tests need ../shared/reference tokenizers")
    return path


@functools.cache
def _qwen3() -> Any:
    path = _need(REFERENCE / "tokenizers" / "qwen3")  # first: skips without transformers
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path))
    tok.chat_template = CHATML
    return tok


@functools.cache
def _llama3() -> Any:
    model = _need(REFERENCE / "tokenizers" / "llama-3" / "tokenizer.model")  # first: may skip
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(str(model), pattern=LLAMA3_PATTERN).converted()
    specials = sorted(LLAMA3_SPECIAL_TOKENS, key=LLAMA3_SPECIAL_TOKENS.__getitem__)
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    assert backend.token_to_id("<|eot_id|>") == 128009
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|begin_of_text|>",
                                  eos_token="<|eot_id|>",
                                  pad_token="<|finetune_right_pad_id|>")
    tok.chat_template = LLAMA3
    return tok


@pytest.fixture(params=["qwen3", "llama3"])
def tok(request: pytest.FixtureRequest) -> Any:
    return {"qwen3": _qwen3, "llama3": _llama3}[request.param]()


@pytest.fixture
def spy(tok: Any) -> Any:
    """The tokenizer, with its ``__call__`` (the uncached path) counted."""
    tok = copy.copy(tok)
    base = type(tok)

    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return base.__call__(self, *args, **kwargs)

    tok.__class__ = type(f"Spy{base.__name__}", (base,), {"__call__": call})
    tok.calls = 0
    return tok


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}
CONV = [
    {"role": "system", "content": "Be brief. <|im_end|> <|eot_id|> stays literal"},
    {"role": "user", "content": "  Weather in Paris? ünï 🦙\n\n"},
    {"role": "assistant", "content": "<think>call</think>", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": '{"temp": 20}'},
    {"role": "assistant", "content": "<think>done</think>\n 20 °C.  "},
    {"role": "user", "content": "<|start_header_id|>Thanks<think><tool_call>\t"},
]


def _same(got: Any, expected: Any) -> None:
    assert type(got) is type(expected)
    if isinstance(expected, list):
        assert got == expected
    else:
        assert dict(got) == dict(expected)
        assert got.n_sequences == expected.n_sequences


@pytest.mark.parametrize("kwargs", [
    {},
    {"return_dict": False},
    {"add_generation_prompt": True, "tools": [WEATHER], "thinking": True},
    {"return_dict": False, "thinking": True, "keep_cots": True},
], ids=["defaults", "ids", "tools-thinking", "keep-cots"])
def test_cached_path_is_exact(spy: Any, kwargs: dict[str, Any]) -> None:
    expected = spy.apply_chat_template(CONV, **kwargs)
    spy.calls = 0
    for _ in range(2):  # cold, then warm
        _same(hs.apply_chat_template(spy, CONV, **kwargs), expected)
    assert spy.calls == 0, "the tokenizer's own path was taken"


def test_batched_conversations(spy: Any) -> None:
    batch = [CONV, CONV[:2], CONV[:4]]
    for kwargs in ({}, {"return_dict": False}):
        _same(hs.apply_chat_template(spy, batch, **kwargs), spy.apply_chat_template(batch, **kwargs))


@pytest.mark.parametrize("kwargs", [
    {"padding": True, "return_tensors": "np"},
    {"truncation": True, "max_length": 8},
    {"tokenizer_kwargs": {"return_offsets_mapping": True}},
], ids=["padded-tensors", "truncated", "tokenizer-kwargs"])
def test_tokenizer_arguments_take_the_uncached_path(spy: Any, kwargs: dict[str, Any]) -> None:
    conv: Any = [CONV, CONV[:2]] if "padding" in kwargs else CONV
    expected = spy.apply_chat_template(conv, **kwargs)
    spy.calls = 0
    got = hs.apply_chat_template(spy, conv, **kwargs)
    assert spy.calls == 1
    assert set(got.keys()) == set(expected.keys())
    for key in expected:
        assert repr(got[key]) == repr(expected[key]), key


@pytest.mark.parametrize("flag", ["lstrip", "rstrip", "single_word", "normalized"])
def test_inexact_added_token_flags_take_the_uncached_path(flag: str) -> None:
    from tokenizers import AddedToken

    tok = copy.deepcopy(_qwen3())
    tok.add_tokens([AddedToken("<flagged>", **{flag: True})])
    if flag == "normalized":
        assert tok.backend_tokenizer.normalizer is not None  # NFC: matched on normalized text
    assert TokenizerProfile.of(tok) is None
    conv = [{"role": "user", "content": "a <flagged> b<flagged>c <|im_end|>"}]
    assert hs.apply_chat_template(tok, conv) == tok.apply_chat_template(conv)


def test_added_tokens_are_seen_after_add_tokens() -> None:
    tok = copy.deepcopy(_qwen3())
    conv = [{"role": "user", "content": "one <newtok> two"}]
    before = hs.apply_chat_template(tok, conv, return_dict=False)
    tok.add_tokens(["<newtok>"])
    after = hs.apply_chat_template(tok, conv, return_dict=False)
    assert after == tok.apply_chat_template(conv, return_dict=False)
    assert after != before and tok.convert_tokens_to_ids("<newtok>") in after


def test_backend_truncation_takes_the_uncached_path() -> None:
    tok = copy.deepcopy(_qwen3())
    tok.backend_tokenizer.enable_truncation(max_length=5)
    assert TokenizerProfile.of(tok) is None


# ----------------------------------------------------------------------------- generated
BOUNDARY_TEXTS = [
    "", " ", "  ", "\n", "\n\n", "\t", " \n ", "<|im_start|>", "<|im_end|>", "<|im_end", "im_end|>",
    "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|begin_of_text|>", "<think>",
    "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "<<|im_start|>", "<|im_start|>>",
    "é", "日本語", "🦙", "'s", "123456", "\r\n", "\u00a0", "e\u0301",  # NFC folds e + acute
]
texts = st.lists(st.sampled_from(BOUNDARY_TEXTS) | st.text(max_size=6), max_size=5).map("".join)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    thinking = draw(st.booleans())
    for i in range(draw(st.integers(1, 6))):
        role = draw(st.sampled_from(["user", "assistant", "tool", "system"])) if i else "user"
        content = draw(texts)
        if role == "assistant" and thinking:
            content = draw(texts) + "</think>" + content  # the template needs one here
        messages.append({"role": role, "content": content})
    kwargs = {"thinking": thinking, "add_generation_prompt": draw(st.booleans()),
              "return_dict": draw(st.booleans())}
    if draw(st.booleans()):
        kwargs["tools"] = [WEATHER]
    return messages, kwargs


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=conversations())
def test_generated_conversations_match_transformers(spy: Any, case: Any) -> None:
    messages, kwargs = case
    expected = spy.apply_chat_template(messages, **kwargs)
    spy.calls = 0
    _same(hs.apply_chat_template(spy, messages, **kwargs), expected)
    assert spy.calls == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(texts, min_size=1, max_size=4))
def test_pieces_match_a_whole_encode(texts: list[str]) -> None:
    """The split rule itself, on raw text, for both vocabularies and a tiny cache."""
    cache = PromptTokenCache(max_bytes=600)  # a few entries: evictions happen
    for tok in (_qwen3(), _llama3()):
        profile = TokenizerProfile.of(tok)
        assert profile is not None
        expected = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
        assert cache.encode(profile, texts) == expected
        assert cache.encode(profile, texts) == expected
        assert cache.stats()["bytes"] <= 600


# ----------------------------------------------------------------------------- the cache
def test_cache_is_bounded_and_reports_memory() -> None:
    profile = TokenizerProfile.of(_qwen3())
    assert profile is not None
    cache = PromptTokenCache(max_bytes=10_000)
    texts = [f"message number {i} " * 5 + "<|im_end|>" for i in range(200)]
    cache.encode(profile, texts)
    stats = cache.stats()
    assert 0 < stats["bytes"] <= 10_000 and 0 < stats["entries"] < 200
    assert stats["misses"] == 200 and stats["hits"] == 0
    cache.encode(profile, texts[-1:])
    assert cache.stats()["hits"] == 1  # the most recent entry survived
    cache.max_bytes = 0
    assert cache.stats()["entries"] == 0 and cache.stats()["bytes"] == 0
    assert cache.encode(profile, texts[:2]) == [
        _qwen3()(t, add_special_tokens=False)["input_ids"] for t in texts[:2]]
    assert cache.stats()["entries"] == 0
    cache.clear()
    assert cache.stats() == {"entries": 0, "bytes": 0, "max_bytes": 0, "hits": 0, "misses": 0,
                             "tokens": 0}


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_cache_size_misuse(bad: Any) -> None:
    with pytest.raises(TypeError if not isinstance(bad, int) or isinstance(bad, bool)
                       else ValueError, match="max_bytes"):
        PromptTokenCache(max_bytes=bad)


def test_default_cache_is_shared_and_resizable() -> None:
    cache = hs.prompt_token_cache()
    assert cache is hs.prompt_token_cache()
    old = cache.max_bytes
    try:
        cache.max_bytes = 0
        tok = _qwen3()
        assert hs.apply_chat_template(tok, CONV) == tok.apply_chat_template(CONV)
        assert cache.stats()["entries"] == 0
    finally:
        cache.max_bytes = old


def test_threads_share_the_cache_and_agree() -> None:
    tok = _qwen3()
    cache = hs.prompt_token_cache()
    convs = [CONV[: 1 + i % len(CONV)] + [{"role": "user", "content": f"q{i} " * (i % 7)}]
             for i in range(24)]
    expected = [tok.apply_chat_template(c, return_dict=False) for c in convs]
    results: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            results[k] = [hs.apply_chat_template(tok, c, return_dict=False) for c in convs]
        except BaseException as exc:  # reported below
            errors.append(exc)

    old = cache.max_bytes
    cache.max_bytes = 4_000  # constant eviction while the threads run
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), "deadlock"
    finally:
        cache.max_bytes = old
    assert not errors
    assert all(r == expected for r in results.values()) and len(results) == 4
