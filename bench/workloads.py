"""Deterministic Hermes-4-style workloads for the benchmarks.

A stream is what a server hands the post-processor, one delta per generated token:

    "<think>"  +  N reasoning tokens  +  "</think>"  +  300 answer tokens

``<think>`` and ``</think>`` are single special tokens in Hermes 4, so each is one delta. The other
tokens are drawn (seeded ``random.Random``) from a weighted pool of 1-8 character pieces that
looks like Llama-3 BPE output of English reasoning: words with a leading space, sub-word pieces,
punctuation, newlines, digits, math symbols, and about 4% non-ASCII pieces (accents, typographic
punctuation, CJK, arrows, and a rare emoji, so some deltas are 2-, 3- and 4-byte UTF-8). A few
``<`` pieces make the parser check for a tag now and then, as comparisons in real reasoning do.

Every delta is a distinct ``str`` object sliced from the full text (``Stream.fresh_tokens()``),
as a detokenizer produces them: CPython caches a str's UTF-8 form on the object, so re-feeding
the same objects round after round would hide the encoding cost of non-ASCII deltas.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hermes_stream.reference.tags import THINK_CLOSE, THINK_OPEN

ANSWER_TOKENS = 300
SEED = 20250826

# (piece, weight). Weights are relative; ~96% of the mass is ASCII.
_POOL: tuple[tuple[str, float], ...] = (
    # frequent words, leading space as in BPE vocabularies
    *((w, 30.0) for w in (" the", " to", " of", " and", " a", " is", " that", " we", " so", " it")),
    *(
        (w, 8.0)
        for w in (
            " Let", " me", " think", " Wait", " but", " if", " then", " check", " need", " this",
            " value", " number", " answer", " first", " step", " maybe", " because", " which",
            " from", " for", " with", " not", " can", " each", " sum", " case", " sure", " So",
            " Hmm", " right", " would", " should", " equal", " total", " means", " gives", " one",
            " two", " term", " list", " loop", " return", " result", " input", " string", " count",
            " In", " The", " user", " asks", " about", " also", " Okay", " same", " other",
        )
    ),
    # sub-word pieces (no leading space)
    *((w, 6.0) for w in ("ing", "ed", "tion", "al", "er", "s", "ly", "ment", "ity", "ive", "ous")),
    *((w, 2.0) for w in ("re", "con", "pro", "ex", "ate", "ize", "able", "ness", "fore", "ward")),
    # punctuation and layout
    *((w, 12.0) for w in (".", ",")),
    *((w, 4.0) for w in (":", "?", "\n", "\n\n", " (", ")", "'s", " -", " \"", "\"")),
    *((w, 1.5) for w in ("!", ";", "**", "##", " `", "`", "()", " [", "]", "    ", "\t")),
    # digits and math
    *((w, 3.0) for w in ("1", "2", "3", "0", " 1", " 2", "10", "100", " x", " y", " n", " =")),
    *((w, 1.0) for w in (" +", " -", " *", " /", "^", " %", " ==", " >=", " >", " <", "<")),
    # non-ASCII: 2-byte (Latin-1 / Latin Extended), 3-byte (punctuation, math, CJK), 4-byte (emoji)
    *((w, 0.6) for w in (" café", " naïve", " über", " año", "é", "ü", "ñ", " résumé", "ç")),
    *((w, 0.6) for w in ("—", "–", "“", "”", "’", "…", " →", " ≤", " ≥", " ×", " π", " √", "²")),
    *((w, 0.4) for w in (" 是", "的", " 日本", "語", " 数", "学", " Ω", " α", " β", " ∑")),
    *((w, 0.05) for w in (" 🙂", "🚀", " ✅")),
)
assert all(1 <= len(p) <= 8 for p, _ in _POOL), "tokens are 1-8 characters"

#: Character sets for bulk_text(): the mixed pool, or the pool without astral (4-byte) pieces, or
#: ASCII pieces only. CPython stores a str in 1, 2 or 4 bytes per character by its widest
#: character, which decides how much converting it to and from UTF-8 costs.
CHARSETS = {
    "mixed": lambda p: True,
    "bmp": lambda p: max(map(ord, p)) < 0x10000,
    "ascii": lambda p: p.isascii(),
}


def _pool(charset: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    keep = CHARSETS[charset]
    pool = [(p, w) for p, w in _POOL if keep(p)]
    return tuple(p for p, _ in pool), tuple(w for _, w in pool)


def random_tokens(n: int, rng: random.Random, charset: str = "mixed") -> list[str]:
    """``n`` pieces from the pool (the same objects repeat; see ``Stream.fresh_tokens``)."""
    pieces, weights = _pool(charset)
    return rng.choices(pieces, weights=weights, k=n)


@dataclass(frozen=True)
class Stream:
    """One model output and its split into deltas.

    ``bounds[i]:bounds[i+1]`` is delta ``i`` of ``text``. ``reasoning`` and ``content`` are what a
    correct parser returns (``reasoning_budget=None``).
    """

    n_reasoning: int
    text: str
    bounds: tuple[int, ...]
    reasoning: str
    content: str

    @property
    def n_deltas(self) -> int:
        return len(self.bounds) - 1

    @property
    def n_bytes(self) -> int:
        return len(self.text.encode("utf-8"))

    def fresh_tokens(self) -> list[str]:
        """The deltas as new str objects (no cached UTF-8), as a detokenizer would hand them over.

        One-character Latin-1 pieces are CPython singletons either way, as they are in a server.
        """
        t, b = self.text, self.bounds
        return [t[b[i] : b[i + 1]] for i in range(len(b) - 1)]


def hermes_stream(n_reasoning: int, n_answer: int = ANSWER_TOKENS, seed: int = SEED) -> Stream:
    """``<think>`` + ``n_reasoning`` tokens + ``</think>`` + ``n_answer`` tokens, one delta each."""
    rng = random.Random(seed * 1_000_003 + n_reasoning)
    reasoning_toks = random_tokens(n_reasoning, rng)
    # The answer starts on a new paragraph after </think>, as Hermes 4 writes it.
    answer_toks = ["\n\n", *random_tokens(max(n_answer - 1, 0), rng)] if n_answer else []
    pieces = [THINK_OPEN, *reasoning_toks, THINK_CLOSE, *answer_toks]
    bounds = [0]
    for p in pieces:
        bounds.append(bounds[-1] + len(p))
    reasoning = "".join(reasoning_toks)
    content = "".join(answer_toks)
    _check_no_tags(reasoning, content)
    return Stream(n_reasoning, "".join(pieces), tuple(bounds), reasoning, content)


def bulk_text(n_bytes: int, charset: str = "mixed", seed: int = SEED) -> tuple[str, str, str]:
    """A single Hermes output of about ``n_bytes`` UTF-8 bytes: (text, reasoning, content).

    Same shape as a stream (reasoning, then a 300-token answer), built for one-shot ``parse()``.
    ``charset``: "mixed" (the stream pool: a 10 MB text holds some emoji, so CPython stores it
    at 4 bytes per character), "bmp" (no emoji: 2 bytes per character) or "ascii" (1 byte).
    """
    rng = random.Random(seed + n_bytes)
    answer = "\n\n" + "".join(random_tokens(ANSWER_TOKENS - 1, rng, charset))
    budget = n_bytes - len(THINK_OPEN) - len(THINK_CLOSE) - len(answer.encode("utf-8"))
    parts: list[str] = []
    size = 0
    while size < budget:
        chunk = "".join(random_tokens(65_536, rng, charset))
        parts.append(chunk)
        size += len(chunk.encode("utf-8"))
    reasoning = "".join(parts)
    # Trim to the byte budget on a character boundary.
    reasoning = reasoning.encode("utf-8")[: max(budget, 0)].decode("utf-8", "ignore")
    _check_no_tags(reasoning, answer)
    return THINK_OPEN + reasoning + THINK_CLOSE + answer, reasoning, answer


def _check_no_tags(reasoning: str, content: str) -> None:
    # Pieces could in principle spell a tag across token boundaries; the seed is fixed, so this
    # only fires if the pool changes.
    for tag in (THINK_OPEN, THINK_CLOSE):
        if tag in reasoning or tag in content or (tag == THINK_OPEN and "<think" in content):
            raise AssertionError(f"workload accidentally contains {tag!r}; change SEED or the pool")


def fresh_copy(text: str) -> str:
    """An equal str that is a new object (so its UTF-8 form is not cached yet)."""
    if len(text) < 2:
        return "".join([text])  # tiny strings: caching does not matter
    return text[:1] + text[1:]
