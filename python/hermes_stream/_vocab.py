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

import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from ._vocab_encode import _GreedyEncoder
from ._vocab_json import _eos_from_config, _load_tokenizer_json_text, _piece_table_from_json
from ._vocab_table import _int_ids, _Table
from ._vocab_tiktoken import LLAMA3_PATTERN, LLAMA3_SPECIAL_TOKENS, _load_ranks, _tiktoken_encoder

__all__ = ["EOT_TOKEN_NAMES", "LLAMA3_PATTERN", "LLAMA3_SPECIAL_TOKENS", "Vocab"]

#: Token texts that end a message wherever the vocabulary has them (SPEC rule 14).
EOT_TOKEN_NAMES = ("<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end_of_text|>")

# Layout: the per-id table loaders produce (_vocab_table), tokenizer.json (_vocab_json),
# tiktoken files and encoders (_vocab_tiktoken), the greedy fallback encoder (_vocab_encode).

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
    _encoder_spec: tuple[Any, ...]
    _encoder: Any  # None until built, then the encoder callable or False (none: greedy)
    _greedy_enc: _GreedyEncoder | None
    _fallback_ids: frozenset[int]
    _native: Any  # the native table (hermes_stream._core.Vocab), built on first use

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
            table = cast("tuple[bytes | None, ...]", tuple(pieces))  # trusted: already checked
        else:
            if isinstance(cast(object, pieces), (str, bytes, bytearray)):  # a common mistake
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

    def token_bytes(self, id: int) -> bytes:  # name fixed by the API
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
        library is installed; ``from_tiktoken`` uses the ``tiktoken`` library, or the same BPE in
        Python when only the ``regex`` module is installed), without adding special tokens. If that is unavailable, or its result does not
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
            ids: list[int] | None
            try:
                ids = encoder(text)
            except Exception:  # any tokenizer failure: use the greedy path
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
                return _tiktoken_encoder(self.pieces, n_ranks, specials, pattern)
        except Exception:  # library missing or file gone: greedy
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
        table, n_ranks = _load_ranks(os.fspath(path), specials)
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
    except Exception:
        return False
    return True


def _restore(pieces: Any, eot: Any, special: Any, added: Any, kind: str,
             spec: tuple[Any, ...], fallback: Any) -> Vocab:
    return Vocab(pieces, eot, special, added_ids=added, kind=kind, _encoder_spec=spec,
                 _fallback_ids=fallback, _trusted=True)
