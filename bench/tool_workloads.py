"""Tool-call streams for bench/test_tool_calls.py: a 2,000-token reasoning trace followed by three
calls with nested arguments, and one call whose argument string is 30,000 tokens, one delta per
token (JSON split into 1-6 character token-like pieces)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from typing import Any

import workloads

_PIECE = re.compile(r'\s?[A-Za-z]{1,6}|\s?\d{1,3}|[^\sA-Za-z\d]{1,2}|\s+', re.S)


def _pieces(text: str) -> list[str]:
    out = _PIECE.findall(text)
    assert "".join(out) == text
    return out


@dataclass(frozen=True)
class ToolStream:
    name: str
    tokens: tuple[str, ...]
    calls: tuple[tuple[str, Any], ...]  # (name, arguments) expected

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    def fresh_tokens(self) -> list[str]:
        return ["".join([t[:1], t[1:]]) if len(t) > 1 else t for t in self.tokens]


def _nested_args(rng: random.Random, i: int) -> dict[str, Any]:
    return {
        "query": " ".join(workloads.random_tokens(12, rng)).strip(),
        "filters": {"tags": ["news", "weather", f"id-{i}"], "range": {"from": i, "to": 10 * i + 7},
                    "exact": i % 2 == 0, "score": 0.25 * i, "note": None},
        "items": [{"id": k, "name": f"item \"{k}\" ü", "path": "C:\\tmp\\x"} for k in range(4)],
    }


def three_calls(n_reasoning: int = 2_000, seed: int = 7) -> ToolStream:
    rng = random.Random(seed)
    toks = ["<think>", *workloads.random_tokens(n_reasoning, rng), "</think>", "\n"]
    calls = []
    for i, name in enumerate(["search", "get_weather", "lookup_items"]):
        args = _nested_args(rng, i + 1)
        calls.append((name, args))
        body = "\n" + json.dumps({"name": name, "arguments": args}, ensure_ascii=False) + "\n"
        toks += ["<tool_call>", *_pieces(body), "</tool_call>", "\n"]
    return ToolStream(f"3calls@{n_reasoning}", tuple(toks), tuple(calls))


def long_argument(n_arg_tokens: int = 30_000, seed: int = 11) -> ToolStream:
    rng = random.Random(seed)
    essay = "".join(workloads.random_tokens(n_arg_tokens, rng, "ascii")).replace("<", "(")
    args = {"title": "report", "body": essay}
    body = json.dumps({"name": "write_file", "arguments": args})
    enc = json.dumps(essay)
    at = body.index(enc)
    toks = ["<tool_call>", *_pieces(body[:at]), *_pieces(enc), *_pieces(body[at + len(enc):]),
            "</tool_call>"]
    assert "".join(toks) == "<tool_call>" + body + "</tool_call>"
    return ToolStream(f"longarg@{n_arg_tokens}", tuple(toks), (("write_file", args),))
