"""Loading a Hugging Face ``tokenizer.json``: byte-level BPE and SentencePiece byte fallback.

See :mod:`hermes_stream._vocab` for the rules that map each vocabulary string to its bytes.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ._vocab_table import _Table

# --------------------------------------------------------------------------------------------
# Byte-level (GPT-2) character table


def _bytes_to_unicode() -> dict[int, str]:
    keep = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {b: chr(b) for b in keep}
    n = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + n)
            n += 1
    return table


def _byte_level_table() -> dict[int, int]:
    # str.translate table: byte-level character -> the byte it stands for (as a code point
    # < 256, so the result encodes with latin-1). Code points < 256 that are NOT in the table
    # are sent to U+0100 so that latin-1 encoding fails and the token falls back to UTF-8.
    table: dict[int, int] = {cp: 0x100 for cp in range(256)}
    for byte, char in _bytes_to_unicode().items():
        table[ord(char)] = byte
    return table


_BYTE_LEVEL_TABLE = _byte_level_table()


def _byte_level_bytes(token: str) -> bytes:
    try:
        return token.translate(_BYTE_LEVEL_TABLE).encode("latin-1")
    except UnicodeEncodeError:
        # Same rule as the tokenizers ByteLevel decoder: a token with any character outside
        # the table is taken verbatim.
        return token.encode("utf-8")


def _byte_level_many(tokens: list[str]) -> list[bytes]:
    """``_byte_level_bytes`` over a list (one comprehension; per-token fallback if needed)."""
    table = _BYTE_LEVEL_TABLE
    try:
        return [t.translate(table).encode("latin-1") for t in tokens]
    except UnicodeEncodeError:
        return [_byte_level_bytes(t) for t in tokens]


# --------------------------------------------------------------------------------------------
# tokenizer.json loading

_JSON = json.JSONDecoder()
_WS = re.compile(r"[ \t\n\r]*")


def _skip_ws(s: str, i: int) -> int:
    return _WS.match(s, i).end()  # type: ignore[union-attr]


def _parse_object(s: str, i: int, on_key: Any = None) -> tuple[dict[str, Any], int]:
    """Parse the JSON object at ``s[i]``; ``on_key(key, s, pos)`` may parse a value itself."""
    if s[i] != "{":
        raise ValueError("expected an object")
    out: dict[str, Any] = {}
    i = _skip_ws(s, i + 1)
    if s[i] == "}":
        return out, i + 1
    while True:
        key, i = _JSON.raw_decode(s, i)
        if not isinstance(key, str):
            raise ValueError("expected a key")
        i = _skip_ws(s, i)
        if s[i] != ":":
            raise ValueError("expected ':'")
        i = _skip_ws(s, i + 1)
        handled = on_key(key, s, i) if on_key is not None else None
        value, i = _JSON.raw_decode(s, i) if handled is None else handled
        out[key] = value
        i = _skip_ws(s, i)
        if s[i] == "}":
            return out, i + 1
        if s[i] != ",":
            raise ValueError("expected ',' or '}'")
        i = _skip_ws(s, i + 1)


def _fast_tokenizer_json(s: str) -> dict[str, Any] | None:
    """Parse a tokenizer.json without decoding ``model.merges`` (Vocab does not need them).

    Measured by bench/test_vocab_load.py on Qwen3's tokenizer.json (11 MB; 2-core machine, min
    of 5): this parse 29 ms vs ``json.loads`` 95 ms (3.3x); the whole ``Vocab.from_file`` 98 ms
    vs 180 ms with ``json.loads``, vs 360 ms through ``tokenizers.Tokenizer.from_file`` +
    ``Vocab.from_tokenizers`` (255 ms just to load the library's tokenizer and get its maps).

    Works when ``merges`` is the last key of ``model`` and ``model`` the last top-level key,
    which is how ``tokenizers`` writes files. Returns ``None`` (caller does a full parse) when
    that layout does not hold or a needed key was not seen.
    """
    # The text must end with "] } }" (whitespace allowed): merges, model and file closing.
    end = len(s)
    for closer in "}}]":
        while end > 0 and s[end - 1] in " \t\n\r":
            end -= 1
        if end == 0 or s[end - 1] != closer:
            return None
        end -= 1
    merges_end = end + 1  # just past the ']' closing model.merges

    def model_key(key: str, text: str, pos: int) -> tuple[Any, int] | None:
        if key == "merges" and text[pos] == "[" and pos < merges_end:
            return None, merges_end  # not decoded: Vocab does not need the merges
        return None

    def top_key(key: str, text: str, pos: int) -> tuple[Any, int] | None:
        if key == "model":
            return _parse_object(text, pos, model_key)
        return None

    start = _skip_ws(s, 0)
    data, end = _parse_object(s, start, top_key)
    if _skip_ws(s, end) != len(s):
        return None
    model = data.get("model")
    if not (
        {"added_tokens", "decoder"} <= data.keys()
        and isinstance(model, dict)
        and "vocab" in model
    ):
        return None
    return data


def _load_tokenizer_json_text(text: str) -> dict[str, Any]:
    try:
        data = _fast_tokenizer_json(text)
    except (ValueError, IndexError):
        data = None
    if data is None:
        data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ValueError("not a tokenizer.json: no 'model' object")
    return data


_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>\Z")


def _describe(decoder: Any) -> str:
    if not isinstance(decoder, dict):
        return repr(decoder)
    if decoder.get("type") == "Sequence":
        return "Sequence[" + ", ".join(_describe(d) for d in decoder.get("decoders", ())) + "]"
    return str(decoder.get("type"))


def _sentencepiece_steps(decoders: Sequence[Any]) -> list[tuple[str, str]]:
    """Per-token replacement steps of a ByteFallback decoder chain (see module doc)."""
    steps: list[tuple[str, str]] = []
    for d in decoders:
        kind = d.get("type") if isinstance(d, dict) else None
        if kind == "Replace":
            pattern = d.get("pattern") or {}
            if "String" not in pattern:
                raise ValueError(f"unsupported tokenizer decoder: Replace with pattern {pattern!r}")
            steps.append((pattern["String"], d.get("content", "")))
        elif kind == "Metaspace":
            steps.append((d.get("replacement", "\u2581"), " "))
        elif kind in ("ByteFallback", "Fuse", "Strip"):
            # ByteFallback is handled by the caller; Fuse and Strip act on the whole decoded
            # sequence (Strip after Fuse only touches its start), not on a single token.
            pass
        else:
            raise ValueError(f"unsupported step {kind!r} in a ByteFallback decoder")
    return steps


def _piece_table_from_json(data: Mapping[str, Any]) -> _Table:
    """Per-id bytes, text -> id, special/added ids and ``<0xNN>`` ids of a tokenizer.json."""
    model = data["model"]
    decoder = data.get("decoder")
    mtype = model.get("type")
    vocab = model.get("vocab")
    if mtype is None:  # very old files carry no type tag
        mtype = "Unigram" if isinstance(vocab, list) else "BPE" if "merges" in model else None

    decoders: list[Any]
    if isinstance(decoder, dict) and decoder.get("type") == "Sequence":
        decoders = list(decoder.get("decoders") or ())
    elif isinstance(decoder, dict):
        decoders = [decoder]
    else:
        decoders = []
    dtypes = [d.get("type") if isinstance(d, dict) else None for d in decoders]

    if "ByteFallback" in dtypes and mtype in ("BPE", "Unigram"):
        kind = "sentencepiece"
        steps = _sentencepiece_steps(decoders)
    elif dtypes == ["ByteLevel"] and mtype == "BPE":
        kind = "byte_level"
        steps = []
        if model.get("continuing_subword_prefix") or model.get("end_of_word_suffix"):
            raise ValueError(
                "unsupported tokenizer: byte-level BPE with continuing_subword_prefix/"
                "end_of_word_suffix"
            )
    else:
        raise ValueError(
            f"unsupported tokenizer: model.type={mtype!r}, decoder={_describe(decoder)}; "
            "Vocab understands byte-level BPE (ByteLevel decoder) and SentencePiece "
            "byte-fallback vocabularies (decoder containing ByteFallback)"
        )

    if isinstance(vocab, dict):
        texts = list(vocab)
        idx = list(vocab.values())
        by_text = dict(vocab)
    elif isinstance(vocab, list):  # Unigram: [[piece, score], ...], id = position
        texts = [entry[0] for entry in vocab]
        idx = list(range(len(texts)))
        by_text = dict(zip(texts, idx))
    else:
        raise ValueError("not a tokenizer.json: model.vocab is missing")

    added = [t for t in data.get("added_tokens") or () if isinstance(t, dict)]
    ids = idx + [t.get("id") for t in added]
    if not all(type(i) is int for i in ids) or min(ids, default=0) < 0:
        raise ValueError("tokenizer.json has a token id that is not a non-negative integer")
    size = max(ids, default=-1) + 1

    fallback: set[int] = set()
    if kind == "byte_level":
        converted = _byte_level_many(texts)
    else:
        converted = []
        for text, i in zip(texts, idx):
            m = _BYTE_PIECE.match(text) if text.startswith("<0x") else None
            if m is not None:
                converted.append(bytes((int(m.group(1), 16),)))
                fallback.add(i)
                continue
            for old, new in steps:
                text = text.replace(old, new)
            converted.append(text.encode("utf-8"))
    pieces: list[bytes | None]
    if idx == list(range(len(idx))):  # the usual layout: ids 0..n-1 in order
        pieces = cast("list[bytes | None]", converted)  # extended in place with None
        pieces.extend([None] * (size - len(pieces)))
    else:
        pieces = [None] * size
        for i, piece in zip(idx, converted):
            pieces[i] = piece

    special: set[int] = set()
    added_ids: set[int] = set()
    for t in added:
        i = t["id"]
        pieces[i] = t["content"].encode("utf-8")
        by_text[t["content"]] = i
        added_ids.add(i)
        fallback.discard(i)
        if t.get("special"):
            special.add(i)
    return _Table(kind, pieces, by_text, special, added_ids, fallback)


def _eos_from_config(path: str, by_text: Mapping[str, int]) -> set[int]:
    cfg_path = os.path.join(os.path.dirname(os.path.abspath(path)), "tokenizer_config.json")
    try:
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
    except (OSError, ValueError):
        return set()
    eos = cfg.get("eos_token") if isinstance(cfg, dict) else None
    if isinstance(eos, dict):
        eos = eos.get("content")
    if isinstance(eos, str) and eos in by_text:
        return {by_text[eos]}
    return set()
