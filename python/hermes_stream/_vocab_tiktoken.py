"""tiktoken vocabularies: Meta's Llama-3 tables, the ranks-file loader and the BPE encoders."""

from __future__ import annotations

import base64
import functools
import re
import types
from collections.abc import Callable, Mapping, Sequence

from ._vocab_table import _Table


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
        self.ranks = {p: i for i in range(n_ranks) if (p := pieces[i]) is not None}
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


def _load_ranks(path: str, specials: Mapping[str, int]) -> tuple[_Table, int]:
    """The table of a tiktoken ranks file (``base64 rank`` per line) plus ``specials``, and the
    number of ranked ids."""
    ranks: dict[int, bytes] = {}
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                b64, rank_text = line.split()
                rank = int(rank_text)
                piece = base64.b64decode(b64, validate=True)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: not a tiktoken line") from exc
            if rank < 0 or rank in ranks:
                raise ValueError(f"{path}:{lineno}: bad or repeated rank {rank}")
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
    return table, n_ranks


def _tiktoken_encoder(pieces: Sequence[bytes | None], n_ranks: int, specials: Mapping[str, int],
                      pattern: str) -> Callable[[str], list[int]]:
    """``encode(text) -> ids`` for a tiktoken vocabulary (special-token text -> its id).

    Uses the ``tiktoken`` library when it is installed and accepts the vocabulary (its Rust BPE),
    else :class:`_TiktokenEncoder` (the same merges in Python, needs ``regex``)."""
    try:
        import tiktoken
    except ImportError:
        return _TiktokenEncoder(pieces, n_ranks, specials, pattern).encode
    ranks = {p: i for i, p in enumerate(pieces[:n_ranks]) if p is not None}
    try:
        enc = tiktoken.Encoding("hermes_stream", pat_str=pattern, mergeable_ranks=ranks,
                                special_tokens=dict(specials))
    except ValueError:  # e.g. a pattern its regex engine rejects: the Python encoder
        return _TiktokenEncoder(pieces, n_ranks, specials, pattern).encode
    return functools.partial(enc.encode, allowed_special="all")
