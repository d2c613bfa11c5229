"""Exact prompt-token cache behind ``hs.apply_chat_template(..., tokenize=True)``.

A fast (``tokenizers``) tokenizer first cuts its input at every added token (``<|im_start|>``,
``<|im_end|>``, ``<think>``, ``<|start_header_id|>``, ``<|eot_id|>``, ...): each added token becomes
its own id, and each piece between two of them is normalized, pre-tokenized and run through the
model *on its own* (``AddedVocabulary::extract_and_normalize`` in tokenizers). So the ids of a
rendered prompt are the concatenation of the ids of its pieces, and the ids of a piece depend on
the piece's text only: a cache keyed by that text is exact. In a chat every request repeats the
earlier messages, so after the first request only the new messages are tokenized.

The split rule is exact only when no added token strips or matches differently at a piece
boundary. ``TokenizerProfile.of`` refuses (so the caller takes the tokenizer's own path) any
tokenizer that has an added token with ``lstrip``, ``rstrip`` or ``single_word``, or a
``normalized`` added token under a normalizer (it would be matched on normalized text), or a
backend with truncation or padding configured, or that is not a ``tokenizers``-backed tokenizer.

The pieces are found with one ``re`` scan of the rendered text (leftmost-longest over the added
tokens, as tokenizers' Aho-Corasick matcher does), which also catches added-token strings that
message text itself contains, exactly as the tokenizer would.

One process-wide LRU (``prompt_token_cache()``) holds the ids, bounded by an estimate of its
memory in bytes, shared by all threads and tokenizers (keys carry the tokenizer's profile).
Misses of one request are encoded in one ``encode_batch_fast`` call (parallel, without the GIL).
"""

from __future__ import annotations

import hashlib
import itertools
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = ["PromptTokenCache", "TokenizerProfile", "prompt_token_cache"]

DEFAULT_MAX_BYTES = 256 << 20
#: Bytes charged per entry on top of the key's and the ids tuple's own size: the OrderedDict
#: node and hash-table slot (measured with tracemalloc: bench/test_token_cache.py).
_ENTRY_OVERHEAD = 112


class TokenizerProfile:
    """What the cache needs of one tokenizer: its added-token splitter and id table.

    ``TokenizerProfile.of(tokenizer)`` returns None when the split rule is not exact for it."""

    __slots__ = ("__weakref__", "added", "backend", "ints", "key", "splitter")

    _lock = threading.Lock()
    #: id(backend) -> (backend, vocabulary size, profile): the fast path of ``of()``.
    _by_backend: ClassVar[dict[int, tuple[Any, int, TokenizerProfile | None]]] = {}
    #: sha256 of the backend's serialisation -> profile: copies of one tokenizer (vLLM keeps a
    #: pool of deep copies) share one profile, so their requests share cache entries.
    _by_content: ClassVar[dict[str, TokenizerProfile | None]] = {}
    _keys = itertools.count(1)

    def __init__(self, backend: Any, added: dict[str, int], key: int) -> None:
        self.backend = backend
        self.added = added
        self.key = key
        # Longest first: at one position the longest added token wins (leftmost-longest).
        alternatives = sorted(added, key=len, reverse=True)
        self.splitter = re.compile("(" + "|".join(map(re.escape, alternatives)) + ")")
        # One shared int object per id, so a cached tuple costs 8 bytes per token.
        self.ints = list(range(backend.get_vocab_size(with_added_tokens=True)))

    @classmethod
    def of(cls, tokenizer: Any) -> TokenizerProfile | None:
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None or type(backend).__module__.split(".")[0] != "tokenizers":
            return None
        if backend.truncation is not None or backend.padding is not None:
            return None
        # The added vocabulary can grow (add_tokens): the size is part of the identity.
        size = backend.get_vocab_size(with_added_tokens=True)
        hit = cls._by_backend.get(id(backend))
        if hit is not None and hit[0] is backend and hit[1] == size:
            return hit[2]
        # First sight of this backend object: ~0.15 s for Qwen3's 151K-token tokenizer.json.
        digest = hashlib.sha256(backend.to_str().encode("utf-8")).hexdigest()
        with cls._lock:
            if digest in cls._by_content:
                prof = cls._by_content[digest]
            else:
                if len(cls._by_content) >= 16:
                    cls._by_content.clear()  # keys are never reused: stale entries just age out
                prof = cls._by_content[digest] = cls._build(backend, next(cls._keys))
            if len(cls._by_backend) >= 64:
                cls._by_backend.clear()
            cls._by_backend[id(backend)] = (backend, size, prof)
        return prof

    @classmethod
    def _build(cls, backend: Any, key: int) -> TokenizerProfile | None:
        try:
            decoder = backend.get_added_tokens_decoder()
        except AttributeError:
            return None
        has_normalizer = backend.normalizer is not None
        added: dict[str, int] = {}
        for token_id, tok in decoder.items():
            if tok.lstrip or tok.rstrip or tok.single_word:
                return None
            if tok.normalized and has_normalizer:
                return None
            if tok.content:
                added[tok.content] = token_id
        if not added:
            return None
        return cls(backend, added, key)

    def split(self, text: str) -> list[str]:
        """[piece, added token, piece, added token, ..., piece] (pieces may be empty)."""
        return self.splitter.split(text)


class PromptTokenCache:
    """A bounded, thread-safe LRU of text piece -> token ids (see the module docstring).

    ``max_bytes`` bounds an estimate of the memory held (keys, id tuples, entry overhead);
    ``stats()`` reports it with the hit and miss counts. ``max_bytes=0`` disables caching
    (every piece is encoded, nothing is kept)."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[int, str], tuple[int, ...]] = OrderedDict()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._max_bytes = 0
        self.max_bytes = max_bytes

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    @max_bytes.setter
    def max_bytes(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"max_bytes must be an int, got {type(value).__name__}")
        if value < 0:
            raise ValueError(f"max_bytes must be >= 0, got {value}")
        with self._lock:
            self._max_bytes = value
            self._evict()

    def stats(self) -> dict[str, int]:
        """entries, bytes (estimated memory held), max_bytes, hits, misses, tokens held."""
        with self._lock:
            return {
                "entries": len(self._entries), "bytes": self._bytes,
                "max_bytes": self._max_bytes, "hits": self._hits, "misses": self._misses,
                "tokens": sum(len(v) for v in self._entries.values()),
            }

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            self._hits = self._misses = 0

    def encode(self, profile: TokenizerProfile, texts: Sequence[str]) -> list[list[int]]:
        """The ids of each rendered text, exactly as ``tokenizer(text, add_special_tokens=False)``."""
        key = profile.key
        added = profile.added
        parts_of = [profile.split(t) for t in texts]
        found: dict[str, tuple[int, ...]] = {}
        missing: list[str] = []
        entries = self._entries
        with self._lock:
            for parts in parts_of:
                for piece in parts[::2]:  # even positions are the pieces between added tokens
                    if not piece or piece in found:
                        continue
                    cached = entries.get((key, piece))
                    if cached is None:
                        found[piece] = ()
                        missing.append(piece)
                    else:
                        entries.move_to_end((key, piece))
                        found[piece] = cached
            self._hits += len(found) - len(missing)
            self._misses += len(missing)
        if missing:
            # One batched call: tokenizers encodes the pieces in parallel without the GIL.
            encoded = profile.backend.encode_batch_fast(missing, add_special_tokens=False)
            ints = profile.ints
            new = [(p, tuple(map(ints.__getitem__, e.ids))) for p, e in zip(missing, encoded)]
            found.update(new)
            self._insert(key, new)
        out = []
        for parts in parts_of:
            ids: list[int] = []
            for i, part in enumerate(parts):
                if i & 1:
                    ids.append(added[part])
                elif part:
                    ids.extend(found[part])
            out.append(ids)
        return out

    def _insert(self, key: int, new: list[tuple[str, tuple[int, ...]]]) -> None:
        with self._lock:
            if self._max_bytes == 0:
                return
            entries = self._entries
            for piece, ids in new:
                k = (key, piece)
                if k in entries:
                    continue
                entries[k] = ids
                self._bytes += _entry_bytes(piece, ids)
            self._evict()

    def _evict(self) -> None:  # with the lock held
        entries = self._entries
        while self._bytes > self._max_bytes and entries:
            (_, piece), ids = entries.popitem(last=False)
            self._bytes -= _entry_bytes(piece, ids)


def _entry_bytes(piece: str, ids: tuple[int, ...]) -> int:
    return sys.getsizeof(piece) + sys.getsizeof(ids) + _ENTRY_OVERHEAD


_DEFAULT = PromptTokenCache()


def prompt_token_cache() -> PromptTokenCache:
    """The process-wide cache ``hs.apply_chat_template(tokenize=True)`` uses (resize it with
    ``prompt_token_cache().max_bytes = N``; 0 turns caching off)."""
    return _DEFAULT
