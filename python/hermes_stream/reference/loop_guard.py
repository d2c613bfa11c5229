"""Reference loop detector: the rule of ``hs.LoopGuard``, checked for every period at every unit.

After unit ``n`` of a reasoning region (units ``x[0..n-1]``), ``run[p]`` is the number of
consecutive positions ``i`` ending at ``n - 1`` with ``x[i] == x[i - p]``; the suffix of period
``p`` then spans ``run[p] + p`` units. The rule holds for ``p`` when ``p <= max_period`` and that
span is at least ``min_repeats * p`` and at least ``min_span`` units. The first unit where it
holds for some ``p`` is reported, with the smallest such ``p``; then the region is not watched
any more. This is O(max_period) per unit: obviously right, slow. The native detector
(``cpp/hermes_stream/loop_guard.cc``) finds the same unit and period in O(log max_period)
amortised and must agree on every input.
"""

from __future__ import annotations

from collections import deque


class LoopDetector:
    def __init__(self, min_repeats: int, max_period: int, min_span: int) -> None:
        self.min_repeats = min_repeats
        self.max_period = max_period
        self.min_span = min_span
        self.reset()

    def reset(self) -> None:
        self.n = 0  # units since reset()
        self.done = False
        self._window: deque[int] = deque(maxlen=self.max_period)  # the last units, newest last
        self._runs = [0] * (self.max_period + 1)  # run[p] for p >= 1

    def push(self, unit: int) -> tuple[int, int, int, int] | None:
        """Append a unit; at the one where the rule first holds, ``(period, repeats, start,
        end)`` with offsets since ``reset()``; otherwise None (always None once done)."""
        if self.done:
            return None
        window, runs = self._window, self._runs
        found = None
        for p in range(1, len(window) + 1):  # window[-p] is x[n - p]
            runs[p] = runs[p] + 1 if window[-p] == unit else 0
            span = runs[p] + p
            if found is None and span >= self.min_repeats * p and span >= self.min_span:
                found = p
        window.append(unit)
        self.n += 1
        if found is None:
            return None
        self.done = True
        span = runs[found] + found
        return (found, span // found, self.n - span, self.n)
