"""feed_tokens one id at a time on the 30K stream (issue 4), against the floor called with an int,
tokenizers' DecodeStream + the reference parser, and DecodeStream + native feed(text); plus the
Qwen3 Vocab build time. Needs ../shared/reference (the Qwen3 tokenizer)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

import hermes_stream as hs
from harness import SIZES, call_all, feed_ids_all, measure, stream

QWEN3 = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "tokenizers" / "qwen3"
N = SIZES[1]


@functools.lru_cache(maxsize=1)
def _setup() -> tuple[Any, Any, list[int]]:
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent: the token benchmarks need the Qwen3 tokenizer")
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(QWEN3 / "tokenizer.json"))
    vocab = hs.Vocab.from_file(QWEN3 / "tokenizer.json")
    ids = tok.encode(stream(N).text, add_special_tokens=False).ids
    return tok, vocab, ids


def _info(ids: list[int]) -> dict[str, Any]:
    return {"n_units": len(ids), "unit": "token", "n_reasoning": N}




def test_tokens_floor(benchmark: Any, floor: Any) -> None:
    _, _, ids = _setup()
    measure(benchmark, call_all, key="tok_floor", group="tokens", kind="fast",
            setup=lambda: ((floor.Floor().feed, ids), {}), **_info(ids))


def test_tokens_native(benchmark: Any) -> None:
    _, vocab, ids = _setup()
    p = measure(benchmark, feed_ids_all, key="tok_native", group="tokens", kind="fast",
                setup=lambda: ((hs.StreamParser(vocab=vocab, reasoning_budget=None), ids), {}),
                **_info(ids))
    s = stream(N)
    assert (p.message.reasoning, p.message.content) == (s.reasoning, s.content)


def _decode_then(feed: Any, tok: Any, ids: list[int]) -> None:
    from tokenizers.decoders import DecodeStream

    ds = DecodeStream(skip_special_tokens=False)
    for i in ids:
        text = ds.step(tok, i)
        if text:
            feed(text)


def test_tokens_decodestream_native_text(benchmark: Any) -> None:
    tok, _, ids = _setup()
    measure(benchmark, _decode_then, key="tok_ds_native", group="tokens", kind="fast",
            setup=lambda: ((hs.StreamParser(reasoning_budget=None).feed, tok, ids), {}),
            **_info(ids))


def test_tokens_decodestream_reference(benchmark: Any) -> None:
    tok, _, ids = _setup()
    measure(benchmark, _decode_then, key="tok_ds_reference", group="tokens", kind="slow",
            setup=lambda: ((hs.reference.StreamParser(reasoning_budget=None).feed, tok, ids), {}),
            **_info(ids))


def test_vocab_build(benchmark: Any) -> None:
    _setup()
    v = measure(benchmark, hs.Vocab.from_file, key="vocab_build", group="vocab", kind="slow",
                setup=lambda: ((QWEN3 / "tokenizer.json",), {}), n_units=1, unit="build")
    assert len(v) == 151_669
