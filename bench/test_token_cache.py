"""Render + tokenize with the prompt-token cache (issue 13): the serving pattern.

A chat grows by a user and an assistant message per request; each request renders and tokenizes
the whole conversation (``tokenize=True, return_dict=False``, 5 tools, generation prompt). At 3, 21
and 101 messages, for the Qwen3 (ChatML, Hermes-4-14B template) and Llama-3 (Hermes-4-70B
template) vocabularies from ../shared/reference:

* ``hf``: transformers' ``tokenizer.apply_chat_template(tokenize=True)``;
* ``warm``: ``hs.apply_chat_template`` with the cache holding the previous request (the
  conversation two messages shorter): only the new messages are tokenized;
* ``cold``: the same with an empty cache (every piece tokenized, in one batched call).

Every output is checked against transformers' ids before it is timed. ``test_cache_memory``
records the cache's real memory per cached token (tracemalloc) next to its own estimate.

    python -m pytest bench/test_token_cache.py --benchmark-only
"""

from __future__ import annotations

import functools
import tracemalloc
from typing import Any

import pytest

import hermes_stream as hs
from harness import SMOKE, measure, repeat
from hermes_stream._token_cache import PromptTokenCache, TokenizerProfile
from hermes_stream._vocab import LLAMA3_PATTERN, LLAMA3_SPECIAL_TOKENS
from test_render import QWEN3, ROOT, TOOLS, conversation

LLAMA3 = ROOT.parent / "shared" / "reference" / "tokenizers" / "llama-3" / "tokenizer.model"
TEMPLATES = ROOT / "tests" / "data" / "chat_templates"
SIZES = (3, 21, 101)
VOCABS = ("qwen3", "llama3")
#: Requests per round (1 in smoke mode): about 10-50 ms per round.
REPS = {"hf": {3: 20, 21: 5, 101: 1}, "warm": {3: 200, 21: 100, 101: 40},
        "cold": {3: 20, 21: 5, 101: 1}}


@functools.cache
def tokenizer(vocab: str) -> Any:
    transformers = pytest.importorskip("transformers", reason="the peer is transformers")
    if vocab == "qwen3":
        if not QWEN3.is_dir():
            pytest.skip(f"{QWEN3} is absent")
        tok = transformers.AutoTokenizer.from_pretrained(str(QWEN3))
        tok.chat_template = (TEMPLATES / "hermes-4-14b.jinja").read_text()
        return tok
    if not LLAMA3.is_file():
        pytest.skip(f"{LLAMA3} is absent")
    pytest.importorskip("tiktoken", reason="transformers reads the tiktoken file with tiktoken")
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import TikTokenConverter

    backend = TikTokenConverter(str(LLAMA3), pattern=LLAMA3_PATTERN).converted()
    names = sorted(LLAMA3_SPECIAL_TOKENS, key=LLAMA3_SPECIAL_TOKENS.__getitem__)
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in names])
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend,
                                               bos_token="<|begin_of_text|>")
    tok.chat_template = (TEMPLATES / "hermes-4-70b.jinja").read_text()
    return tok


ARGS = {"tools": TOOLS, "tokenize": True, "return_dict": False, "add_generation_prompt": True}



@pytest.mark.parametrize("vocab", VOCABS)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("mode", ["hf", "warm", "cold"])
def test_render_tokenize(benchmark: Any, mode: str, n: int, vocab: str) -> None:
    tok = tokenizer(vocab)
    msgs, previous = conversation(n), conversation(n - 2)
    expected = tok.apply_chat_template(msgs, **ARGS)
    cache = hs.prompt_token_cache()
    if mode == "hf":
        def once() -> Any:
            return tok.apply_chat_template(msgs, **ARGS)
    else:
        def once() -> Any:
            if mode == "cold":
                cache.clear()
            return hs.apply_chat_template(tok, msgs, **ARGS)
    reps = 1 if SMOKE else REPS[mode][n]

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        cache.clear()
        hs.apply_chat_template(tok, previous, **ARGS)  # the previous request of this chat
        return (once, reps), {}

    setup()
    assert once() == expected, f"{mode} ids differ from transformers at {n} messages ({vocab})"
    measure(benchmark, repeat, key=f"tokcache_{mode}_{vocab}@{n}", group=f"tokcache-{vocab}-{n}",
            n_units=reps, unit="request", kind="slow", setup=setup, n_messages=n,
            n_tokens=len(expected))


@pytest.mark.parametrize("vocab", VOCABS)
def test_cache_memory(vocab: str) -> None:
    """Real bytes held per cached token (tracemalloc) vs the cache's own estimate."""
    tok = tokenizer(vocab)
    profile = TokenizerProfile.of(tok)
    assert profile is not None
    text = hs.apply_chat_template(tok, conversation(101), tools=TOOLS, tokenize=False)
    cache = PromptTokenCache()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    cache.encode(profile, [text])
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    stats = cache.stats()
    print(f"\n{vocab}: {stats['tokens']} tokens in {stats['entries']} entries: "
          f"{held / stats['tokens']:.1f} B/token held (estimate {stats['bytes'] / stats['tokens']:.1f})")
    assert stats["bytes"] >= 0.8 * held, "the cache's memory estimate is far too low"
