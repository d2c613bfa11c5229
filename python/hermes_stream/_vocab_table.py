"""The per-id table a vocabulary loader produces, and the id-set argument check."""

from __future__ import annotations

import operator
from typing import Any


class _Table:
    __slots__ = ("kind", "pieces", "by_text", "special", "added", "fallback")

    def __init__(self, kind: str, pieces: list[bytes | None], by_text: dict[str, int],
                 special: set[int], added: set[int], fallback: set[int]) -> None:
        self.kind, self.pieces, self.by_text = kind, pieces, by_text
        self.special, self.added, self.fallback = special, added, fallback


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
