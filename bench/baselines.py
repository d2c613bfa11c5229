"""What hermes_stream is compared with: Python ``re`` splitting (the optional vLLM / SGLang peers
are driven by peer_drivers.py).

``regex_split`` is the usual one-regex think/answer split. ``regex_rerun`` is the usual naive
*streaming* use of it: append each delta to the accumulated text, re-run the regex on all of it,
and send what grew since the last run. Each re-run scans the whole text so far, so a stream of
n deltas costs O(n^2); the benchmark re-runs only every ``every``-th delta (see README).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# <think> ... then the first </think> (or the end of the text, while reasoning is still open).
THINK_RE = re.compile(r"<think>(.*?)(?:</think>|\Z)(.*)", re.DOTALL)


def regex_split(text: str) -> tuple[str, str]:
    """(reasoning, content) of a whole Hermes output."""
    m = THINK_RE.search(text)
    if m is None:
        return "", text
    return m.group(1), text[: m.start()] + m.group(2)


def regex_rerun(tokens: Iterable[str], every: int = 1) -> tuple[int, str, str]:
    """Stream with the re-run-on-accumulated-text approach, re-running at every ``every``-th delta
    (and after the last one). Returns (number of re-runs, reasoning, content) as sent."""
    acc = ""
    sent_r: list[str] = []
    sent_c: list[str] = []
    n_r = n_c = 0
    runs = 0
    i = -1
    for i, tok in enumerate(tokens):
        acc += tok
        if i % every == every - 1:
            runs += 1
            r, c = regex_split(acc)
            if len(r) > n_r:
                sent_r.append(r[n_r:])
                n_r = len(r)
            if len(c) > n_c:
                sent_c.append(c[n_c:])
                n_c = len(c)
    if i >= 0 and i % every != every - 1:  # the tail after the last sampled delta
        runs += 1
        r, c = regex_split(acc)
        sent_r.append(r[n_r:])
        sent_c.append(c[n_c:])
    return runs, "".join(sent_r), "".join(sent_c)


def regex_rerun_runs(n_deltas: int, every: int) -> int:
    """How many re-runs ``regex_rerun`` does for ``n_deltas`` deltas."""
    return n_deltas // every + (1 if n_deltas % every else 0)
