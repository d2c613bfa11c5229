"""The fallback encoder: greedy longest match over a vocabulary's pieces."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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
                    there = best[j]
                    if tid is not None and (there is None or there[0] > here[0] + 1):
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
