"""tiktoken vocabularies encode with the ``tiktoken`` library when it is installed.

Differential: the library (``tiktoken.Encoding``) and the Python fallback (``_TiktokenEncoder``:
the same pre-split and rank merges) give the same ids on generated text, for a small vocabulary
built here (always) and Meta's Llama-3 ``tokenizer.model`` from ``../shared/reference`` (skipped
when absent). Without tiktoken the fallback is used and ``Vocab.encode`` is unchanged.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hermes_stream._vocab import LLAMA3_PATTERN, Vocab
from hermes_stream._vocab_tiktoken import _tiktoken_encoder, _TiktokenEncoder

pytest.importorskip("regex", reason="the Python tiktoken encoder needs regex ([test] extra)")

LLAMA3 = (Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "tokenizers"
          / "llama-3" / "tokenizer.model")
SPECIALS = {"<|eot_id|>": 0, "<|start|>": 1}  # ids filled in per vocabulary
WORDS = ["the", " the", "think", "</think>", "tool_call", " 123", "\n\n", "café", "日本語", "🦙"]


def _small_ranks_file(tmp_path: Path) -> tuple[Path, int]:
    """256 single bytes, then every 2-4 byte substring of WORDS in order of first appearance."""
    ranks = [bytes([b]) for b in range(256)]
    seen = set(ranks)
    for word in WORDS:
        data = word.encode()
        for n in (2, 3, 4):
            for i in range(len(data) - n + 1):
                piece = data[i : i + n]
                if piece not in seen:
                    seen.add(piece)
                    ranks.append(piece)
    path = tmp_path / "small.tiktoken"
    path.write_text("".join(f"{base64.b64encode(p).decode()} {i}\n" for i, p in enumerate(ranks)),
                    "ascii")
    return path, len(ranks)


Encode = Callable[[str], list[int]]
_ENCODERS: dict[int, tuple[Encode, Encode]] = {}


def _specials(v: Vocab) -> dict[str, int]:
    return {v.token_bytes(i).decode(): i for i in v.added_ids}


def _encoders(v: Vocab) -> tuple[Encode, Encode]:
    """(the library-backed encoder ``Vocab`` uses, the Python one), built once per vocabulary."""
    if id(v) not in _ENCODERS:
        n_ranks, specials = v._encoder_spec[1], _specials(v)
        _ENCODERS[id(v)] = (
            _tiktoken_encoder(v.pieces, n_ranks, specials, LLAMA3_PATTERN),
            _TiktokenEncoder(v.pieces, n_ranks, specials, LLAMA3_PATTERN).encode,
        )
    return _ENCODERS[id(v)]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Vocab:
    path, n = _small_ranks_file(tmp_path_factory.mktemp("tiktoken"))
    return Vocab.from_tiktoken(path, {name: n + i for i, name in enumerate(SPECIALS)})


@pytest.fixture(scope="module")
def llama3() -> Vocab:
    if not LLAMA3.is_file():
        pytest.skip(f"reference data absent: {LLAMA3} not found")
    return Vocab.from_tiktoken(LLAMA3)


TEXT = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(WORDS + ["<|eot_id|>", "<|start|>",
                                                            "<|eot", "|>", " ", "\n", "  1"])),
    max_size=12,
).map("".join)


def test_the_library_is_used_when_installed(small: Vocab) -> None:
    tiktoken = pytest.importorskip("tiktoken", reason="tiktoken is in the [test] extra")
    library, _ = _encoders(small)
    assert isinstance(getattr(library, "func", None).__self__, tiktoken.Encoding)  # type: ignore[union-attr]
    assert isinstance(getattr(small._get_encoder(), "func", None).__self__, tiktoken.Encoding)  # type: ignore[union-attr]


@settings(max_examples=300, deadline=None)
@given(text=TEXT)
def test_small_library_and_python_agree(small: Vocab, text: str) -> None:
    pytest.importorskip("tiktoken", reason="tiktoken is in the [test] extra")
    library, python = _encoders(small)
    ids = python(text)
    assert library(text) == ids
    assert small.decode(ids) == text.encode()
    assert small.encode(text) == ids


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_llama3_library_and_python_agree(llama3: Vocab, text: str) -> None:
    pytest.importorskip("tiktoken", reason="tiktoken is in the [test] extra")
    library, python = _encoders(llama3)
    ids = python(text)
    assert library(text) == ids
    assert llama3.encode(text) == ids


def test_without_tiktoken_the_python_encoder_is_used(small: Vocab,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tiktoken", None)  # import tiktoken -> ImportError
    v = Vocab(small.pieces, small.eot_ids, small.special_ids, added_ids=small.added_ids,
              kind=small.kind, _encoder_spec=small._encoder_spec)
    encoder = v._get_encoder()
    assert isinstance(encoder.__self__, _TiktokenEncoder)
    text = "the think<|eot_id|> café 日本語 🦙\n\n 123"
    python = _TiktokenEncoder(small.pieces, small._encoder_spec[1], _specials(small),
                              LLAMA3_PATTERN)
    assert v.encode(text) == python.encode(text)
    assert v.decode(v.encode(text)) == text.encode()
