"""Token-id vocabulary: every id maps to its exact bytes (SPEC rule 14).

Pure Python, no dependency on the native extension. A :class:`Vocab` is immutable and can be
shared freely between parsers and threads.

Supported vocabularies
----------------------
* **Byte-level BPE** (GPT-2 style: Qwen, Llama-3 HF files, ...): a ``tokenizer.json`` whose
  ``model.type`` is ``BPE`` and whose ``decoder`` is ``ByteLevel``. Each vocabulary string is
  mapped back to bytes through the inverse of GPT-2's ``bytes_to_unicode`` table. As in the
  ``tokenizers`` ByteLevel decoder, a string holding a character outside that table is taken as
  its own UTF-8 bytes.
* **SentencePiece byte fallback** (Llama-2, Mistral, ...): a ``tokenizer.json`` (BPE or Unigram
  model) whose ``decoder`` contains ``ByteFallback``, typically
  ``Sequence[Replace("▁", " "), ByteFallback, Fuse, Strip(" ", 1, 0)]``, or one using
  ``Metaspace``.
  A ``<0xNN>`` piece is that single byte; any other piece is its UTF-8 text with the
  ``Replace``/``Metaspace`` substitutions applied (``▁`` -> space).

  The decoder's ``Strip`` step (and ``Metaspace``'s leading-space removal) acts on the *fused*
  text, i.e. only at the very start of a decoded sequence; it is a presentation detail of
  ``Tokenizer.decode`` and not a property of a token. Per-token bytes therefore do **not** strip:
  ``"▁Hello"`` is ``b" Hello"`` wherever it occurs. ``Fuse`` is a no-op per token.
* **tiktoken** ranks files (Meta's Llama-3 ``tokenizer.model``: lines ``base64 rank``), with the
  special tokens given separately (default: Meta's Llama-3 table, 256 ids from 128000).
* Anything else given explicitly with :meth:`Vocab.from_pieces`.

Other tokenizers (WordPiece, WordLevel, byte-level BPE with a subword prefix/suffix, a decoder
this module does not understand) raise ``ValueError`` instead of guessing.

Added tokens (``tokenizer.json`` ``added_tokens``, special or not) map to the UTF-8 bytes of
their ``content``: that is the text the tokenizer matched when it produced the id. (For the
pathological added token whose characters all lie in the byte-level table, e.g. ``"Ġx"``,
``tokenizers`` would push it through the ByteLevel decoder and print ``" x"``; we keep the
content, which is what makes ``decode(encode(text)) == text`` hold.)
"""

from __future__ import annotations

import base64
import json
import operator
import os
import re
import types
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["LLAMA3_PATTERN", "LLAMA3_SPECIAL_TOKENS", "EOT_TOKEN_NAMES", "Vocab"]

#: Token texts that end a message wherever the vocabulary has them (SPEC rule 14).
EOT_TOKEN_NAMES = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>")


def _llama3_special_tokens() -> dict[str, int]:
    # Meta's llama_models/llama3/tokenizer.py (llama-models 0.3.0): id = 128000 + position.
    named = [
        "<|begin_of_text|>",
        "<|end_of_text|>",
        "<|reserved_special_token_0|>",
        "<|reserved_special_token_1|>",
        "<|finetune_right_pad_id|>",
        "<|step_id|>",
        "<|start_header_id|>",
        "<|end_header_id|>",
        "<|eom_id|>",
        "<|eot_id|>",
        "<|python_tag|>",
        "<|image|>",
    ]
    names = named + [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(named))]
    return {name: 128000 + i for i, name in enumerate(names)}


#: Meta's canonical Llama-3 special tokens (used by :meth:`Vocab.from_tiktoken` by default).
LLAMA3_SPECIAL_TOKENS: Mapping[str, int] = types.MappingProxyType(_llama3_special_tokens())

#: Meta's Llama-3 pre-tokenizer split pattern (needs the ``regex`` module).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


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
    """Parse a tokenizer.json without decoding ``model.merges`` (half of the parse time).

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


class _Table:
    __slots__ = ("kind", "pieces", "by_text", "special", "added", "fallback")

    def __init__(self, kind: str, pieces: list[bytes | None], by_text: dict[str, int],
                 special: set[int], added: set[int], fallback: set[int]) -> None:
        self.kind, self.pieces, self.by_text = kind, pieces, by_text
        self.special, self.added, self.fallback = special, added, fallback


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
        pieces = converted
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


def _int_ids(values: Any, what: str) -> set[int]:
    if values is None:
        return set()
    if isinstance(values, int) and not isinstance(values, bool):
        return {values}
    out = set()
    for v in values:
        if isinstance(v, bool):
            raise TypeError(f"{what} must be ints, got bool")
        out.add(operator.index(v))
    return out


# --------------------------------------------------------------------------------------------
# Encoders


def _bpe_ranks(piece: bytes, ranks: Mapping[bytes, int]) -> list[int]:
    """tiktoken's byte-pair merge: repeatedly merge the lowest-ranked adjacent pair."""
    rank = ranks.get(piece)
    if rank is not None:
        return [rank]
    parts = [piece[i : i + 1] for i in range(len(piece))]
    while len(parts) > 1:
        best = -1
        best_rank = None
        for i in range(len(parts) - 1):
            r = ranks.get(parts[i] + parts[i + 1])
            if r is not None and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best < 0:
            break
        parts[best : best + 2] = [parts[best] + parts[best + 1]]
    return [ranks[p] for p in parts]


class _TiktokenEncoder:
    """Real tiktoken-style BPE (pre-split with ``pattern``, then rank merges)."""

    def __init__(self, pieces: Sequence[bytes | None], n_ranks: int, specials: Mapping[str, int],
                 pattern: str) -> None:
        import regex  # third-party; ImportError -> caller falls back to greedy

        self.split = regex.compile(pattern)
        self.ranks = {pieces[i]: i for i in range(n_ranks) if pieces[i] is not None}
        names = sorted(specials, key=len, reverse=True)
        self.special_re = (
            re.compile("|".join(re.escape(n) for n in names)) if names else None
        )
        self.specials = dict(specials)

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        pos = 0
        if self.special_re is not None:
            for m in self.special_re.finditer(text):
                self._ordinary(text[pos : m.start()], out)
                out.append(self.specials[m.group()])
                pos = m.end()
        self._ordinary(text[pos:], out)
        return out

    def _ordinary(self, text: str, out: list[int]) -> None:
        ranks = self.ranks
        for m in self.split.finditer(text):
            out.extend(_bpe_ranks(m.group().encode("utf-8"), ranks))


class _GreedyEncoder:
    """Longest match over the pieces, special tokens included.

    Among pieces with the same bytes, an added/special token wins, then an ordinary piece
    (lowest id), then a byte-fallback ``<0xNN>`` piece.
    """

    def __init__(self, pieces: Sequence[bytes | None], preferred: Iterable[int],
                 last_resort: Iterable[int]) -> None:
        index: dict[bytes, int] = {}
        late = set(last_resort)
        for i, p in enumerate(pieces):
            if p and i not in late and p not in index:
                index[p] = i
        for i in sorted(late):
            p = pieces[i]
            if p and p not in index:
                index[p] = i
        for i in sorted(preferred, reverse=True):
            p = pieces[i]
            if p:
                index[p] = i
        lengths: dict[int, set[int]] = {}
        for p in index:
            lengths.setdefault(p[0], set()).add(len(p))
        self.index = index
        self.lengths = {b: sorted(ls, reverse=True) for b, ls in lengths.items()}

    def encode(self, text: str) -> list[int]:
        data = text.encode("utf-8")
        index, lengths = self.index, self.lengths
        out: list[int] = []
        i, n = 0, len(data)
        while i < n:
            for length in lengths.get(data[i], ()):
                if i + length <= n:
                    tid = index.get(data[i : i + length])
                    if tid is not None:
                        out.append(tid)
                        i += length
                        break
            else:
                # Only possible when some single bytes have no piece: find any exact cover.
                return self._cover(data)
        return out

    def _cover(self, data: bytes) -> list[int]:
        """Fewest-pieces exact segmentation (dynamic programming), or ValueError."""
        index, lengths = self.index, self.lengths
        n = len(data)
        best: list[tuple[int, int, int] | None] = [None] * (n + 1)  # (count, prev, id)
        best[0] = (0, -1, -1)
        for i in range(n):
            here = best[i]
            if here is None:
                continue
            for length in lengths.get(data[i], ()):
                j = i + length
                if j <= n:
                    tid = index.get(data[i:j])
                    if tid is not None and (best[j] is None or best[j][0] > here[0] + 1):
                        best[j] = (here[0] + 1, i, tid)
        if best[n] is None:
            reach = max(i for i in range(n + 1) if best[i] is not None)
            raise ValueError(
                f"cannot encode byte 0x{data[reach]:02x} at offset {reach}: "
                "no sequence of pieces covers it"
            )
        out: list[int] = []
        j = n
        while j > 0:
            _, i, tid = best[j]  # type: ignore[misc]
            out.append(tid)
            j = i
        out.reverse()
        return out


# --------------------------------------------------------------------------------------------


class Vocab:
    """Maps every token id to its exact bytes. Immutable; safe to share between threads.

    Attributes:
        pieces: ``pieces[id]`` is the token's bytes, ``None`` where the id has no token.
        eot_ids: ids that end a message: the tokenizer's eos plus ``<|im_end|>``,
            ``<|eot_id|>``, ``<|endoftext|>``, ``<|end_of_text|>`` where present.
        special_ids: ids of special tokens (``special: true`` added tokens; all tiktoken
            special tokens). Qwen3's ``<think>``/``<tool_call>`` tags are added tokens but not
            special, so they are in ``added_ids`` only.
        added_ids: ids of added tokens (``tokenizer.json`` ``added_tokens`` or tiktoken specials).
        kind: ``"byte_level"``, ``"sentencepiece"``, ``"tiktoken"`` or ``"pieces"``.
    """

    __slots__ = ("pieces", "eot_ids", "special_ids", "added_ids", "kind", "_encoder_spec",
                 "_encoder", "_greedy_enc", "_fallback_ids", "_native")

    pieces: tuple[bytes | None, ...]
    eot_ids: frozenset[int]
    special_ids: frozenset[int]
    added_ids: frozenset[int]
    kind: str

    def __init__(
        self,
        pieces: Iterable[bytes | bytearray | memoryview | None],
        eot_ids: Iterable[int] = (),
        special_ids: Iterable[int] = (),
        *,
        added_ids: Iterable[int] | None = None,
        kind: str = "pieces",
        _encoder_spec: tuple[Any, ...] = ("greedy",),
        _fallback_ids: Iterable[int] = (),
        _trusted: bool = False,
    ) -> None:
        if _trusted:
            table = tuple(pieces)  # type: ignore[arg-type]
        else:
            if isinstance(pieces, (str, bytes, bytearray)):
                raise TypeError("pieces must be a sequence of bytes or None, one per id")
            checked: list[bytes | None] = []
            for i, p in enumerate(pieces):
                if p is None:
                    checked.append(None)
                elif isinstance(p, (bytes, bytearray, memoryview)):
                    checked.append(bytes(p))
                else:
                    raise TypeError(
                        f"piece for id {i} must be bytes or None, got {type(p).__name__}"
                    )
            table = tuple(checked)
        sets = {}
        for name, ids in (("eot_ids", eot_ids), ("special_ids", special_ids),
                          ("added_ids", special_ids if added_ids is None else added_ids)):
            s = frozenset(_int_ids(ids, name))
            for i in s:
                if not (0 <= i < len(table)) or table[i] is None:
                    raise ValueError(f"{name} contains unknown token id {i}")
            sets[name] = s
        if not isinstance(kind, str):
            raise TypeError("kind must be a str")
        _set = object.__setattr__
        _set(self, "pieces", table)
        _set(self, "eot_ids", sets["eot_ids"])
        _set(self, "special_ids", sets["special_ids"])
        _set(self, "added_ids", sets["added_ids"] | sets["special_ids"])
        _set(self, "kind", kind)
        _set(self, "_encoder_spec", _encoder_spec)
        _set(self, "_encoder", None)
        _set(self, "_greedy_enc", None)
        _set(self, "_fallback_ids", frozenset(_fallback_ids))
        _set(self, "_native", None)

    def _native_handle(self) -> Any:
        """The native id -> bytes table (``hermes_stream._core.Vocab``), built once, shared by
        every native parser using this Vocab."""
        native = self._native
        if native is None:
            from . import _core  # the pure-Python parts of this module do not need it

            native = _core.Vocab(list(self.pieces), sorted(self.eot_ids))
            object.__setattr__(self, "_native", native)
        return native

    # -- immutability -------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Vocab is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Vocab is immutable")

    def __reduce__(self) -> Any:
        spec = self._encoder_spec
        if spec[0] == "tokenizers" and not _picklable(spec[1]):
            spec = ("greedy",)
        return (
            _restore,
            (self.pieces, self.eot_ids, self.special_ids, self.added_ids, self.kind, spec,
             self._fallback_ids),
        )

    def __repr__(self) -> str:
        known = sum(p is not None for p in self.pieces)
        return (
            f"<Vocab kind={self.kind} ids={len(self.pieces)} tokens={known} "
            f"eot_ids={sorted(self.eot_ids)}>"
        )

    # -- lookups ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.pieces)

    def _unknown(self, tid: int) -> ValueError:
        n = len(self.pieces)
        if 0 <= tid < n:
            why = "no token has this id"
        else:
            why = f"ids run from 0 to {n - 1}"
        return ValueError(f"unknown token id {tid}: {why}")

    def token_bytes(self, id: int) -> bytes:  # noqa: A002 - name fixed by the API
        """The exact bytes of token ``id``; ``ValueError`` for an id with no token."""
        if isinstance(id, bool):
            raise TypeError("token id must be an int, got bool")
        tid = operator.index(id)
        if 0 <= tid < len(self.pieces):
            piece = self.pieces[tid]
            if piece is not None:
                return piece
        raise self._unknown(tid)

    def decode(self, ids: Iterable[int]) -> bytes:
        """Concatenated bytes of ``ids`` (may end inside a UTF-8 sequence)."""
        pieces = self.pieces
        n = len(pieces)
        out = []
        for tid in ids:
            if type(tid) is not int:
                if isinstance(tid, bool):
                    raise TypeError("token id must be an int, got bool")
                tid = operator.index(tid)
            if 0 <= tid < n:
                piece = pieces[tid]
                if piece is not None:
                    out.append(piece)
                    continue
            raise self._unknown(tid)
        return b"".join(out)

    # -- encoding -----------------------------------------------------------------------------

    def encode(self, text: str) -> list[int]:
        """Token ids whose bytes concatenate to ``text.encode("utf-8")``.

        Uses the real tokenizer when this vocabulary came from one (``from_tokenizers``,
        ``from_tokenizer``; ``from_file`` loads it with ``tokenizers`` on first use when that
        library is installed; ``from_tiktoken`` runs tiktoken's BPE when the ``regex`` module is
        installed), without adding special tokens. If that is unavailable, or its result does not
        reproduce the text byte for byte (a normalizer such as NFC or a SentencePiece ``▁``
        prefix changes it), a greedy longest match over the pieces is used instead (if some byte
        has no single-byte piece and greedy gets stuck, an exact cover by dynamic programming;
        ``ValueError`` if none exists). Special-token text is encoded as the special token
        (``"</think>"`` -> its single id).
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        target = text.encode("utf-8")
        encoder = self._get_encoder()
        if encoder is not None:
            try:
                ids = encoder(text)
            except Exception:  # noqa: BLE001 - any tokenizer failure: use the greedy path
                ids = None
            if ids is not None:
                try:
                    if self.decode(ids) == target:
                        return ids
                except ValueError:
                    pass
        return self._greedy().encode(text)

    def _get_encoder(self) -> Any:
        enc = self._encoder
        if enc is None:
            enc = self._make_encoder()
            object.__setattr__(self, "_encoder", enc)
        return enc or None

    def _make_encoder(self) -> Any:
        spec = self._encoder_spec
        kind = spec[0]
        try:
            if kind == "tokenizers":
                tok = spec[1]
                return lambda text: list(tok.encode(text, add_special_tokens=False).ids)
            if kind == "tokenizer_file":
                import tokenizers

                tok = tokenizers.Tokenizer.from_file(spec[1])
                return lambda text: list(tok.encode(text, add_special_tokens=False).ids)
            if kind == "tiktoken":
                _, n_ranks, pattern = spec
                specials = {
                    self.pieces[i].decode("utf-8", "replace"): i  # type: ignore[union-attr]
                    for i in self.added_ids
                }
                return _TiktokenEncoder(self.pieces, n_ranks, specials, pattern).encode
        except Exception:  # noqa: BLE001 - library missing or file gone: greedy
            return False
        return False

    def _greedy(self) -> _GreedyEncoder:
        enc = self._greedy_enc
        if enc is None:
            enc = _GreedyEncoder(self.pieces, self.added_ids, self._fallback_ids)
            object.__setattr__(self, "_greedy_enc", enc)
        return enc

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_pieces(
        cls,
        pieces: Sequence[bytes | None],
        eot_ids: Iterable[int] = (),
        special_ids: Iterable[int] = (),
    ) -> Vocab:
        """A vocabulary from explicit per-id bytes (``None`` for ids without a token)."""
        return cls(pieces, eot_ids, special_ids)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, extra_eot_ids: Iterable[int] = ()) -> Vocab:
        """Load a ``tokenizer.json`` (Hugging Face ``tokenizers`` format).

        Parsed with the standard ``json`` module only. If a ``tokenizer_config.json`` sits next
        to it, its ``eos_token`` joins ``eot_ids``.
        """
        path = os.fspath(path)
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
        table = _piece_table_from_json(_load_tokenizer_json_text(text))
        eos = _eos_from_config(path, table.by_text) | _int_ids(extra_eot_ids, "extra_eot_ids")
        return cls._build(table, eos, ("tokenizer_file", os.path.abspath(path)))

    @classmethod
    def from_tokenizers(cls, tok: Any, *, extra_eot_ids: Iterable[int] = ()) -> Vocab:
        """From a ``tokenizers.Tokenizer``; ``encode`` then uses it."""
        to_str = getattr(tok, "to_str", None)
        if to_str is None:
            raise TypeError(f"expected a tokenizers.Tokenizer, got {type(tok).__name__}")
        table = _piece_table_from_json(_load_tokenizer_json_text(to_str()))
        eos = _int_ids(extra_eot_ids, "extra_eot_ids")
        return cls._build(table, eos, ("tokenizers", tok))

    @classmethod
    def from_tokenizer(cls, hf_tokenizer: Any, *, extra_eot_ids: Iterable[int] = ()) -> Vocab:
        """From a ``transformers`` fast tokenizer (duck-typed: ``backend_tokenizer`` and
        ``eos_token_id``); its eos joins ``eot_ids``."""
        backend = getattr(hf_tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(
                f"{type(hf_tokenizer).__name__} has no backend_tokenizer: Vocab.from_tokenizer "
                "needs a fast (tokenizers-backed) tokenizer; load it with use_fast=True or use "
                "Vocab.from_file('tokenizer.json')"
            )
        eos = getattr(hf_tokenizer, "eos_token_id", None)
        extra = _int_ids(eos, "eos_token_id") | _int_ids(extra_eot_ids, "extra_eot_ids")
        return cls.from_tokenizers(backend, extra_eot_ids=extra)

    @classmethod
    def from_tiktoken(
        cls,
        path: str | os.PathLike[str],
        special_tokens: Mapping[str, int] | None = None,
        *,
        pattern: str = LLAMA3_PATTERN,
        extra_eot_ids: Iterable[int] = (),
    ) -> Vocab:
        """Load a tiktoken ranks file (Meta's Llama-3 ``tokenizer.model``: ``base64 rank`` per
        line). ``special_tokens`` defaults to Meta's Llama-3 table (:data:`LLAMA3_SPECIAL_TOKENS`).
        ``pattern`` is the pre-tokenizer regex ``encode`` uses."""
        specials = dict(LLAMA3_SPECIAL_TOKENS if special_tokens is None else special_tokens)
        ranks: dict[int, bytes] = {}
        with open(os.fspath(path), "rb") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    b64, rank_text = line.split()
                    rank = int(rank_text)
                    piece = base64.b64decode(b64, validate=True)
                except ValueError as exc:
                    raise ValueError(f"{os.fspath(path)}:{lineno}: not a tiktoken line") from exc
                if rank < 0 or rank in ranks:
                    raise ValueError(f"{os.fspath(path)}:{lineno}: bad or repeated rank {rank}")
                ranks[rank] = piece
        n_ranks = max(ranks, default=-1) + 1
        size = max([n_ranks] + [i + 1 for i in specials.values()])
        pieces: list[bytes | None] = [None] * size
        for rank, piece in ranks.items():
            pieces[rank] = piece
        by_text: dict[str, int] = {}
        for name, i in specials.items():
            if isinstance(i, bool) or not isinstance(i, int) or i < 0:
                raise ValueError(f"special token {name!r} has a bad id {i!r}")
            if pieces[i] is not None:
                raise ValueError(f"special token {name!r} id {i} collides with a ranked token")
            pieces[i] = name.encode("utf-8")
            by_text[name] = i
        ids = set(by_text.values())
        table = _Table("tiktoken", pieces, by_text, ids, ids, set())
        return cls._build(table, _int_ids(extra_eot_ids, "extra_eot_ids"),
                          ("tiktoken", n_ranks, pattern))

    @classmethod
    def _build(cls, table: _Table, eos: set[int], encoder_spec: tuple[Any, ...]) -> Vocab:
        eot = set(eos)
        for name in EOT_TOKEN_NAMES:
            i = table.by_text.get(name)
            if i is not None:
                eot.add(i)
        return cls(table.pieces, eot, table.special, added_ids=table.added, kind=table.kind,
                   _encoder_spec=encoder_spec, _fallback_ids=table.fallback, _trusted=True)


def _picklable(obj: Any) -> bool:
    import pickle

    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001
        return False
    return True


def _restore(pieces: Any, eot: Any, special: Any, added: Any, kind: str,
             spec: tuple[Any, ...], fallback: Any) -> Vocab:
    return Vocab(pieces, eot, special, added_ids=added, kind=kind, _encoder_spec=spec,
                 _fallback_ids=fallback, _trusted=True)
