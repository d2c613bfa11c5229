"""Loading Qwen3's ``tokenizer.json`` (11 MB, 151k tokens, 151k merges) into a :class:`Vocab`.

Does the hand-written partial parser in ``_vocab_json`` (it does not decode ``model.merges``,
which ``Vocab`` does not need) earn its place? Each contender builds the same ``Vocab``:

* ``from_file``: ``Vocab.from_file`` as shipped (partial parse, full ``json.loads`` fallback);
* ``json_loads``: the same, but the whole file decoded with ``json.loads``;
* ``tokenizers``: ``tokenizers.Tokenizer.from_file`` then ``Vocab.from_tokenizers`` (what a
  caller holding only the library would do);
* ``tokenizers_maps``: a lower bound for any library route: ``Tokenizer.from_file`` plus
  ``get_vocab`` and ``get_added_tokens_decoder`` (the maps, not yet turned into bytes).

The ``parse_*`` rows time the JSON step alone (partial parser vs ``json.loads``) on the text.

    python -m pytest bench/test_vocab_load.py --benchmark-only
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

from harness import measure
from hermes_stream._vocab import Vocab
from hermes_stream._vocab_json import (
    _eos_from_config,
    _load_tokenizer_json_text,
    _piece_table_from_json,
)
from test_render import QWEN3

FILE = QWEN3 / "tokenizer.json"


@pytest.fixture(scope="module")
def path() -> str:
    if not FILE.is_file():
        pytest.skip(f"{FILE} is absent")
    return str(FILE)


def _json_loads_vocab(path: str) -> Vocab:
    with open(path, "rb") as f:
        data = json.loads(f.read().decode("utf-8"))
    table = _piece_table_from_json(data)
    return Vocab._build(table, _eos_from_config(path, table.by_text),
                        ("tokenizer_file", os.path.abspath(path)))


def _tokenizers_vocab(path: str) -> Vocab:
    tokenizers = pytest.importorskip("tokenizers")
    return Vocab.from_tokenizers(tokenizers.Tokenizer.from_file(path))


def _tokenizers_maps(path: str) -> Any:
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(path)
    return tok.get_vocab(with_added_tokens=True), tok.get_added_tokens_decoder()


LOADERS = {"from_file": Vocab.from_file, "json_loads": _json_loads_vocab,
           "tokenizers": _tokenizers_vocab, "tokenizers_maps": _tokenizers_maps}


@pytest.mark.parametrize("how", list(LOADERS))
def test_vocab_load(benchmark: Any, path: str, how: str) -> None:
    load = LOADERS[how]
    expected = Vocab.from_file(path)
    got = measure(benchmark, lambda: load(path), key=f"vocab_load.{how}",
                  group="vocab_load", n_units=1, unit="load", kind="bulk")
    if isinstance(got, Vocab):
        assert got.pieces == expected.pieces
        assert got.added_ids == expected.added_ids and got.special_ids == expected.special_ids
    else:
        vocab, added = got
        assert len(vocab) == len(expected.pieces)
        assert set(added) == set(expected.added_ids)


@pytest.mark.parametrize("how", ["partial", "json_loads"])
def test_tokenizer_json_parse(benchmark: Any, path: str, how: str) -> None:
    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    parse = _load_tokenizer_json_text if how == "partial" else json.loads
    data = measure(benchmark, lambda: parse(text), key=f"vocab_parse.{how}",
                   group="vocab_parse", n_units=1, unit="parse", kind="bulk")
    full = json.loads(text)
    assert data["model"]["vocab"] == full["model"]["vocab"]
    assert data["added_tokens"] == full["added_tokens"] and data["decoder"] == full["decoder"]
