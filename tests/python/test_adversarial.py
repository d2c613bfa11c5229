"""Huge, hostile and degenerate inputs: never raise, never lose text, stay linear."""

from __future__ import annotations

import random
from typing import Any

from helpers import segment_pairs
from hermes_stream._types import message_to_dict


def test_ten_megabyte_single_delta(backend: Any) -> None:
    body = ("reasoning é 😀 < </ <th " * 420_000)[:10_000_000]
    text = "<think>" + body + "</think>" + body
    p = backend.StreamParser(reasoning_budget=None)
    d = p.feed(text)
    p.finish()
    assert d.reasoning == body and d.content == body
    assert len(p.message.segments) == 4


def test_million_one_byte_deltas(backend: Any) -> None:
    n = 1_000_000 if backend.name == "native" else 200_000
    unit = b"<think>ab</think>c\xc3\xa9<"
    data = (unit * (n // len(unit) + 1))[:n]
    p = backend.StreamParser(reasoning_budget=None, keep_message=False)
    reasoning, content = [], []
    for i in range(n):
        d = p.feed_bytes(data[i : i + 1])
        reasoning.append(d.reasoning)
        content.append(d.content)
    d = p.finish()
    reasoning.append(d.reasoning)
    content.append(d.content)
    whole = backend.parse(data, reasoning_budget=None)
    assert "".join(reasoning) == whole.reasoning
    assert "".join(content) == whole.content


def test_random_binary_never_raises_and_is_lossless(backend: Any) -> None:
    rng = random.Random(1234)
    for _ in range(200):
        data = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        data = data.replace(b"\x01", b"<think>").replace(b"\x02", b"</think>")
        p = backend.StreamParser(reasoning_budget=rng.choice([None, 0, 3]))
        pos = 0
        while pos < len(data):
            step = rng.randint(0, 7)
            p.feed_bytes(data[pos : pos + step], rng.randint(0, 2))
            pos += step
        p.finish()
        m = message_to_dict(p.message)
        text = "".join(t for k, t in segment_pairs(m) if k != "forced")
        if not m["budget_exceeded"]:
            assert text == data.decode("utf-8", "replace")
        else:  # a UTF-8 sequence cut by a forced close is U+FFFD, as a detokenizer would show it
            assert len(text) >= len(data.decode("utf-8", "replace"))


def test_only_angle_brackets(backend: Any) -> None:
    text = "<" * 100_000
    p = backend.StreamParser()
    out = [p.feed(ch).content for ch in text[:1000]]
    out.append(p.feed(text[1000:]).content)
    out.append(p.finish().content)
    assert "".join(out) == text


def test_many_think_blocks(backend: Any) -> None:
    text = "<think>r</think>c" * 50_000
    m = backend.parse(text, reasoning_budget=None)
    assert m.reasoning == "r" * 50_000 and m.content == "c" * 50_000
    assert len(m.segments) == 200_000
