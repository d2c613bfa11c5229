"""What hermes_stream is compared with: Python ``re`` splitting, optional vLLM / SGLang parsers.

``regex_split`` is the usual one-regex think/answer split. ``regex_rerun`` is the usual naive
*streaming* use of it: append each delta to the accumulated text, re-run the regex on all of it,
and send what grew since the last run. Each re-run scans the whole text so far, so a stream of
n deltas costs O(n^2); the benchmark re-runs only every ``every``-th delta (see README).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

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


# --------------------------------------------------------------------------- optional peers
class _FakeTokenizer:
    """Just enough of a HF tokenizer for vLLM's <think> parsers: the two special-token ids."""

    VOCAB = {"<think>": 1, "</think>": 2}

    def get_vocab(self) -> dict[str, int]:
        return dict(self.VOCAB)


TEXT_TOKEN_ID = 100


def make_vllm_stream(vllm_parser_cls: Any) -> Any:
    """A function feeding a token list through vLLM's DeepSeek-R1 ``<think>`` reasoning parser the
    way vLLM's OpenAI server does (accumulated text and token ids, one call per delta)."""

    def new() -> Any:
        parser = vllm_parser_cls(_FakeTokenizer())
        # The method was renamed in 2025 (extract_reasoning_content_streaming -> ..._streaming).
        return getattr(parser, "extract_reasoning_streaming", None) or getattr(
            parser, "extract_reasoning_content_streaming"
        )

    new()  # fail early if the API moved
    ids = _FakeTokenizer.VOCAB

    def run(tokens: list[str]) -> None:
        method = new()
        prev_text = ""
        prev_ids: list[int] = []
        for tok in tokens:
            delta_ids = [ids.get(tok, TEXT_TOKEN_ID)]
            # As vLLM's serving_chat does: both accumulations copy, so this is O(n^2) by design.
            cur_text = prev_text + tok
            cur_ids = prev_ids + delta_ids
            method(prev_text, cur_text, tok, prev_ids, cur_ids, delta_ids)
            prev_text, prev_ids = cur_text, cur_ids

    return run


def make_sglang_stream(sglang_reasoning_parser_cls: Any) -> Any:
    """A function feeding a token list through SGLang's ``deepseek-r1`` reasoning parser."""

    def new() -> Any:
        try:
            return sglang_reasoning_parser_cls("deepseek-r1", stream_reasoning=True)
        except TypeError:  # older SGLang: ReasoningParser(reasoning_parser)
            return sglang_reasoning_parser_cls("deepseek-r1")

    new()  # fail early if the API moved

    def run(tokens: list[str]) -> None:
        feed = new().parse_stream_chunk
        for tok in tokens:
            feed(tok)

    return run
