"""Shared cases for the engine-integration tests (test_vllm.py, test_sglang.py): Hermes 4 outputs,
chunkings of them, and what ``hs.StreamParser`` streams for each (the expected result)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hermes_stream as hs

QWEN3 = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "tokenizers" / "qwen3"
PROMPT = "<|im_start|>user\nWeather in Paris and Rome?<|im_end|>\n<|im_start|>assistant\n"

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
]


def _call(name: str, args: Any, ws: str = "\n") -> str:
    return f"<tool_call>{ws}{json.dumps({'name': name, 'arguments': args}, ensure_ascii=False)}{ws}</tool_call>"


OUTPUTS = {
    "think_answer": "<think>Two plus two is four.</think>\n\nThe answer is 4.",
    "think_two_calls": "<think>Need weather for both.</think>\n" + _call("get_weather", {"city": "Paris"})
    + "\n" + _call("get_weather", {"city": "Rome"}),
    "call_no_think": _call("search", {"q": "naïve café ☕ 日本", "n": [1, 2.5, None, True]}, ""),
    "text_around_calls": "<think>hmm</think>Let me check. " + _call("search", {"q": "a \"b\" \\ c"})
    + " and then " + _call("get_weather", {"city": "Oslo"}) + " done.",
    "close_then_call_same_token": "<think>x</think><tool_call>\n{\"name\": \"search\", \"arguments\": {}}\n</tool_call>",
    "not_a_call": "<think>a</think>Use <tool_call> like this: <tool_call>[1]</tool_call> ok",
    "tag_text_in_args": "<think>r</think>" + _call("search", {"q": "</tool_call> and <think>"}),
    "second_think_block": "<think>first</think>Hi <think>second</think> there",
    "string_arguments": "<think>s</think><tool_call>\n{\"name\": \"search\", \"arguments\": \"{\\\"q\\\": 1}\"}\n</tool_call>",
    "unknown_tool": "<think>u</think>" + _call("launch_rocket", {"when": "now"}) + "ok",
    "truncated_call": "<think>t</think>" + "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"q\": \"unfini",
    "partial_tag_at_end": "<think>p</think>answer <tool_",
    "unclosed_think": "<think>still thinking when the budget ran out",
    "text_before_think": "Sure. <think>why</think>Because.",
    "ws_before_think": "\n<think>R</think>\nC",
    "ws_before_think_call": " \n\t<think>r</think>\n" + _call("search", {"q": "x"}),
    "ws_then_answer": "\n\n  Answer without thinking.",
    "ws_then_call": "\n" + _call("get_weather", {"city": "Lima"}),
    # Cases from vLLM's / SGLang's own Qwen3, DeepSeek-R1 and Hermes parser tests that fit
    # Hermes 4 (the model opens <think> itself; calls are Hermes <tool_call> JSON blocks).
    "empty_reasoning": "<think></think>Answer only.",
    "multiline_reasoning": "<think>line 1\nline 2\n\nline 4</think>\nThe answer\nspans lines.",
    "content_only": "Just an answer, no tags at all.",
    "call_inside_think": "<think>maybe " + _call("search", {"q": "x"}) + " no.</think>Done.",
    "nested_arguments": _call("search", {"q": {"a": [1, {"b": None}], "c": "}{"}, "d": -1.5e3}),
    "arguments_before_name": "<think>o</think><tool_call>\n{\"arguments\": {\"city\": \"Oslo\"}, "
    "\"name\": \"get_weather\"}\n</tool_call>",
    "calls_without_newlines": _call("search", {"q": 1}, "") + _call("search", {"q": 2}, ""),
    "double_think_open": "<think><think>R</think>C",
    "emoji_split": "<think>🙂🚀</think>✅ " + _call("search", {"q": "🙂"}),
}


def qwen3_tokenizer() -> Any:
    import transformers

    return transformers.AutoTokenizer.from_pretrained(str(QWEN3))


def token_chunks(tok: Any, text: str) -> list[tuple[str, list[int]]]:
    """One delta per token, decoded as a detokenizer streams it (incomplete UTF-8 held)."""
    ids = tok.encode(text, add_special_tokens=False)
    out: list[tuple[str, list[int]]] = []
    prev = ""
    pending: list[int] = []
    for i, t in enumerate(ids):
        pending.append(t)
        cur = tok.decode(ids[: i + 1])
        if cur.endswith("\ufffd") and i + 1 < len(ids):
            continue  # a split UTF-8 sequence: wait for the rest, as detokenizers do
        out.append((cur[len(prev):], pending))
        prev, pending = cur, []
    assert "".join(d for d, _ in out) == text
    return out


def char_chunks(tok: Any, text: str, rng: random.Random | None = None) -> list[tuple[str, list[int]]]:
    """Random-size text chunks (1 char, or up to 12 with ``rng``), each with its own ids."""
    pieces = []
    i = 0
    while i < len(text):
        n = 1 if rng is None else rng.randint(1, 12)
        pieces.append(text[i: i + n])
        i += n
    return [(p, tok.encode(p, add_special_tokens=False)) for p in pieces]


CHUNKINGS: dict[str, Callable[[Any, str], list[tuple[str, list[int]]]]] = {
    "tokens": token_chunks,
    "chars": char_chunks,
    "random": lambda tok, text: char_chunks(tok, text, random.Random(len(text))),
    "whole": lambda tok, text: [(text, tok.encode(text, add_special_tokens=False))],
}


@dataclass
class Streamed:
    """What one stream sent, per delta and joined (tool-call ids replaced by whether one was sent)."""

    deltas: list[tuple[str, str, tuple[tuple[int, str | None, str, bool], ...]]] = field(
        default_factory=list)

    def add(self, reasoning: str | None, content: str | None,
            calls: list[tuple[int, str | None, str | None, bool]]) -> None:
        calls_t = tuple((i, n, a or "", has_id) for i, n, a, has_id in calls)
        if reasoning or content or calls_t:
            self.deltas.append((reasoning or "", content or "", calls_t))

    @property
    def reasoning(self) -> str:
        return "".join(r for r, _, _ in self.deltas)

    @property
    def content(self) -> str:
        return "".join(c for _, c, _ in self.deltas)

    @property
    def calls(self) -> list[tuple[str | None, str]]:
        names: dict[int, str | None] = {}
        args: dict[int, list[str]] = {}
        for _, _, calls in self.deltas:
            for i, n, a, _ in calls:
                if n:
                    names[i] = n
                args.setdefault(i, []).append(a)
        return [(names.get(i), "".join(args[i])) for i in sorted(args)]


def expected(chunks: list[tuple[str, list[int]]], tools: Any = TOOLS) -> Streamed:
    """What ``hs.StreamParser`` streams for these chunks, one entry per chunk; ``finish()``'s
    delta is merged into the last chunk's (engines flush with the last chunk)."""
    p = hs.StreamParser(tools=tools, reasoning_budget=None)
    out = Streamed()
    ds = [p.feed(text) for text, _ in chunks]
    last = p.finish()
    for k, d in enumerate(ds):
        r, c, calls = d.reasoning, d.content, list(d.tool_calls)
        if k == len(ds) - 1:
            r, c, calls = r + last.reasoning, c + last.content, calls + list(last.tool_calls)
        out.add(r, c, [(tc.index, tc.name, tc.arguments, tc.id is not None) for tc in calls])
    return out
