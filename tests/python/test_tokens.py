"""feed_tokens (SPEC rules 13, 14): exact bytes, multi-token tags, end of turn, exact budget.

Small vocabularies are built here with `tokenizers`; the real Qwen3 / Llama-3 ones are used when
../shared/reference is present.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import tokenizers  # noqa: F401  (a test dependency: builds the small vocabularies)
from hypothesis import given
from hypothesis import strategies as st

import hermes_stream as hs
from helpers import delta_data, texts_only
from hermes_stream._types import message_to_dict
from strategies import texts, tool_streams

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
TAGS = ["<think>", "</think>", "<tool_call>", "</tool_call>"]
CORPUS = [
    "The quick brown fox jumps over the lazy dog. " * 3,
    '{"name": "get_weather", "arguments": {"city": "Paris"}}',
    "<think>Let me think about it.</think>The answer is 42.",
    "Unicode: é 中文 😀 ∑ — “quotes” \n\t tabs and\nnewlines",
]


def _byte_level(tags_as_tokens: bool) -> hs.Vocab:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|im_end|>", "<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS, trainer)
    if tags_as_tokens:
        tok.add_tokens(TAGS)
    return hs.Vocab.from_tokenizers(tok)


VOCABS = {"qwen-like": _byte_level(True), "llama-like": _byte_level(False)}


@pytest.fixture(params=sorted(VOCABS))
def vocab(request: pytest.FixtureRequest) -> hs.Vocab:
    return VOCABS[request.param]


def _run_ids(parser_cls: Any, vocab: hs.Vocab, groups: list[list[int]], **opts: Any) -> tuple[Any, Any]:
    p = parser_cls(vocab=vocab, id_factory=lambda i: f"call_{i}", **opts)
    deltas = [delta_data(p.feed_tokens(g)) for g in groups]
    deltas.append(delta_data(p.finish()))
    return deltas, message_to_dict(p.message)


def _groups(ids: list[int], rng: random.Random) -> list[list[int]]:
    out, i = [], 0
    while i < len(ids):
        n = rng.randint(0, 4)
        out.append(ids[i : i + n])
        i += n
    return out


def test_multi_token_tags_split_like_single_tokens(backend: Any) -> None:
    text = "<think>plan</think>answer"
    single = VOCABS["qwen-like"]
    multi = VOCABS["llama-like"]
    assert len(multi.encode("<think>")) > 1  # the tag really is several tokens there
    assert len(single.encode("<think>")) == 1
    for v in (single, multi):
        p = backend.StreamParser(vocab=v, reasoning_budget=None)
        for i in v.encode(text):
            p.feed_tokens([i])
        p.finish()
        assert (p.message.reasoning, p.message.content) == ("plan", "answer")


def test_code_point_split_over_tokens_is_held_not_replaced(backend: Any, vocab: hs.Vocab) -> None:
    text = "<think>😀中</think>é"
    ids = vocab.encode(text)
    pieces = [vocab.token_bytes(i) for i in ids]
    assert any(not _is_utf8(p) for p in pieces)  # some token ends inside a code point
    p = backend.StreamParser(vocab=vocab, reasoning_budget=None)
    out = "".join(p.feed_tokens([i]).reasoning for i in ids)
    p.finish()
    assert out == "😀中" and "\ufffd" not in p.message.content


def _is_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_end_of_turn_ends_the_message(backend: Any, vocab: hs.Vocab) -> None:
    eot = min(vocab.eot_ids)
    ids = vocab.encode("<think>r</think>hello") + [eot] + vocab.encode("ignored")
    p = backend.StreamParser(vocab=vocab, reasoning_budget=None)
    d = p.feed_tokens(ids[:-3])
    assert p.ended_by_eot and p.finished
    assert p.message.content == "hello" and "<|" not in p.message.content
    assert d.content.endswith("hello")
    with pytest.raises(RuntimeError, match="end-of-turn"):
        p.feed_tokens(vocab.encode("more"))
    assert not p.finish()  # finish() after an end of turn is an empty delta, once
    with pytest.raises(RuntimeError, match="after finish"):
        p.finish()


def test_unknown_id_raises_before_consuming(backend: Any, vocab: hs.Vocab) -> None:
    p = backend.StreamParser(vocab=vocab, reasoning_budget=None)
    good = vocab.encode("ab")
    with pytest.raises(ValueError, match="unknown token id"):
        p.feed_tokens(good + [len(vocab) + 5])
    with pytest.raises(ValueError, match="unknown token id"):
        p.feed_tokens([-1])
    p.feed_tokens(good)
    p.finish()
    assert p.message.content == "ab"  # the rejected call consumed nothing


def test_feed_tokens_misuse(backend: Any, vocab: hs.Vocab) -> None:
    with pytest.raises(RuntimeError, match="needs a vocab"):
        backend.StreamParser().feed_tokens([1])
    p = backend.StreamParser(vocab=vocab)
    with pytest.raises(TypeError):
        p.feed_tokens("abc")
    with pytest.raises(TypeError):
        p.feed_tokens([1.5])
    with pytest.raises(TypeError):
        p.feed_tokens([True])
    with pytest.raises(TypeError, match="vocab"):
        backend.StreamParser(vocab=object())


@pytest.mark.parametrize("budget", [0, 1, 3, 7])
def test_exact_budget_and_forced_ids(backend: Any, vocab: hs.Vocab, budget: int) -> None:
    text = "<think>one two three four five six seven eight nine ten</think>done"
    ids = vocab.encode(text)
    p = backend.StreamParser(vocab=vocab, reasoning_budget=budget)
    forced = [d.forced for d in (p.feed_tokens([i]) for i in ids) if d.forced is not None]
    p.finish()
    m = p.message
    assert m.budget_exceeded and m.reasoning_tokens == budget
    assert len(forced) == 1
    assert forced[0].text == "\n</think>\n"
    assert vocab.decode(forced[0].token_ids) == b"\n</think>\n"
    # The reasoning holds exactly the first `budget` tokens after <think>.
    open_len = len(vocab.encode("<think>"))
    assert m.reasoning.encode() == vocab.decode(ids[open_len : open_len + budget])


def test_prompt_opened_thinking_counts(backend: Any, vocab: hs.Vocab) -> None:
    ids = vocab.encode("a b c d</think>x")
    p = backend.StreamParser(vocab=vocab, reasoning_budget=None, start_in_reasoning=True)
    p.feed_tokens(ids)
    p.finish()
    # A token counts when the parser is in reasoning at its first byte: every token that starts
    # before the last byte of </think> (with multi-token tags, the tag's own tokens too).
    starts, pos = [], 0
    for i in ids:
        starts.append(pos)
        pos += len(vocab.token_bytes(i))
    close_end = len(b"a b c d</think>")
    assert p.message.reasoning_tokens == sum(1 for s in starts if s < close_end)


@given(st.one_of(texts, tool_streams()), st.integers(0, 2**32 - 1), st.sampled_from(sorted(VOCABS)),
       st.none() | st.integers(0, 6))
def test_native_equals_reference_and_parse(text: str, seed: int, vocab_name: str, budget: Any) -> None:
    v = VOCABS[vocab_name]
    ids = v.encode(text)
    groups = _groups(ids, random.Random(seed))
    native = _run_ids(hs.StreamParser, v, groups, reasoning_budget=budget)
    reference = _run_ids(hs.reference.StreamParser, v, groups, reasoning_budget=budget)
    assert native == reference
    if budget is None:  # without a budget, ids give the same message as the text
        parsed = message_to_dict(hs.parse(text, reasoning_budget=None, id_factory=lambda i: f"call_{i}"))
        assert texts_only(native[1]) == texts_only(parsed)
        one_by_one = _run_ids(hs.StreamParser, v, [[i] for i in ids], reasoning_budget=None)
        assert texts_only(one_by_one[1]) == texts_only(parsed)


def _real_vocab(kind: str) -> hs.Vocab:
    if not REFERENCE.is_dir():
        pytest.skip(f"{REFERENCE} is absent: real-vocabulary tests need ../shared/reference")
    if kind == "qwen3":
        return hs.Vocab.from_file(REFERENCE / "tokenizers" / "qwen3" / "tokenizer.json")
    return hs.Vocab.from_tiktoken(REFERENCE / "tokenizers" / "llama-3" / "tokenizer.model")


@pytest.mark.parametrize("kind", ["qwen3", "llama3"])
def test_real_vocabularies(backend: Any, kind: str) -> None:
    v = _real_vocab(kind)
    text = ('<think>\nThe user wants weather. 😀 中文\n</think>\nSure.\n<tool_call>\n'
            '{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>')
    ids = v.encode(text)
    if kind == "qwen3":
        assert ids[0] == 151667 and 151657 in ids and 151658 in ids  # tags are single tokens
    else:
        assert len(v.encode("<think>")) > 1  # Llama-3: tags span several tokens
    p = backend.StreamParser(vocab=v, reasoning_budget=None, id_factory=lambda i: f"call_{i}")
    for i in ids:
        p.feed_tokens(i)
    eot = 151645 if kind == "qwen3" else 128009
    p.feed_tokens([eot])
    assert p.ended_by_eot
    m = p.message
    assert m.reasoning == "\nThe user wants weather. 😀 中文\n"
    assert m.content == "\nSure.\n"
    assert [(c.name, c.arguments) for c in m.tool_calls] == [("get_weather", '{"city": "Paris"}')]
    think_tokens = len(v.encode("<think>"))
    close_at = ids.index(151668) if kind == "qwen3" else None
    if close_at is not None:  # single-token tags: the trace's tokens exactly
        assert m.reasoning_tokens == close_at - think_tokens + 1  # + the </think> token itself
