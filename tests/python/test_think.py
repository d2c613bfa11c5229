"""Explicit think-splitting cases (SPEC rules 1-8, 12), on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import joined, run, segment_pairs
from hermes_stream._types import message_to_dict


def test_basic_split(backend: Any) -> None:
    deltas, m = run(backend.StreamParser, ["<think>plan</think>answer"], reasoning_budget=None)
    assert m["reasoning"] == "plan"
    assert m["content"] == "answer"
    assert segment_pairs(m) == [
        ("tag", "<think>"),
        ("reasoning", "plan"),
        ("tag", "</think>"),
        ("content", "answer"),
    ]
    assert deltas[0][:2] == ("plan", "answer")


def test_close_tag_split_after_text(backend: Any) -> None:
    p = backend.StreamParser()
    assert p.feed("<think>abc</th").reasoning == "abc"  # "</th" held: it may still be </think>
    d = p.feed("ink>Hello")
    assert (d.reasoning, d.content) == ("", "Hello")
    p.finish()
    assert p.message.reasoning == "abc"


def test_lone_lt_at_chunk_end(backend: Any) -> None:
    p = backend.StreamParser()
    d1 = p.feed("a <")
    assert d1.content == "a "  # "<" could start <think>: held
    d2 = p.feed("b")
    assert d2.content == "<b"
    p.finish()
    assert p.message.content == "a <b"


def test_lt_that_cannot_start_a_live_tag_is_not_held(backend: Any) -> None:
    p = backend.StreamParser()
    # In content only <think> is live: "</" cannot start it, so nothing is held.
    assert p.feed("x </").content == "x </"
    assert p.feed("<thx").content == "<thx"


def test_close_then_open_in_one_delta(backend: Any) -> None:
    p = backend.StreamParser(start_in_reasoning=True)
    d = p.feed("r1</think>c1<think>r2")
    assert (d.reasoning, d.content) == ("r1r2", "c1")
    p.finish()
    m = p.message
    assert [s.kind for s in m.segments] == ["reasoning", "tag", "content", "tag", "reasoning"]
    assert m.reasoning == "r1r2"


def test_text_before_first_think(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["Sure. ", "<think>", "why", "</think>", "Done"])
    assert m["content"] == "Sure. Done"
    assert m["reasoning"] == "why"


def test_partial_tag_at_finish_goes_to_current_region(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["<think>abc</thi"])
    assert m["reasoning"] == "abc</thi"
    _, m = run(backend.StreamParser, ["hello <thin"])
    assert m["content"] == "hello <thin"


def test_nested_think_inside_reasoning_is_text(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["<think>a<think>b</think>c"])
    assert m["reasoning"] == "a<think>b"
    assert m["content"] == "c"


@pytest.mark.parametrize("chunks", [["<think><think>R</think>C"], ["<think>", "<think>", "R</think>C"],
                                    ["<think><th", "ink>R</think>C"], ["<think>\n <think>R</think>C"]])
def test_think_right_at_the_start_of_reasoning_is_a_tag(backend: Any, chunks: list[str]) -> None:
    """SPEC rule 7 (amended): only whitespace since reasoning began, a <think> is absorbed."""
    _, m = run(backend.StreamParser, chunks, reasoning_budget=None)
    ws = "\n " if "\n" in "".join(chunks) else ""
    assert (m["reasoning"], m["content"]) == (ws + "R", "C")
    assert segment_pairs(m)[:2] == [("tag", "<think>")] + ([("reasoning", ws)] if ws else [("tag", "<think>")])
    assert "".join(t for _, t in segment_pairs(m)) == "".join(chunks)  # lossless


def test_prompt_opened_think_then_model_think_is_a_tag(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["\n", "<think>", "\nR</think>C"], start_in_reasoning=True,
               reasoning_budget=None)
    assert segment_pairs(m) == [("reasoning", "\n"), ("tag", "<think>"), ("reasoning", "\nR"),
                       ("tag", "</think>"), ("content", "C")]


def test_think_after_reasoning_text_is_text(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["x<think>R</think>C"], start_in_reasoning=True,
               reasoning_budget=None)
    assert (m["reasoning"], m["content"]) == ("x<think>R", "C")


def test_stray_close_in_content_is_text(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["answer</think>more"])
    assert m["content"] == "answer</think>more"
    assert m["reasoning"] == ""


def test_start_in_reasoning(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["thinking", "</think>", "\n\nanswer"], start_in_reasoning=True)
    assert m["reasoning"] == "thinking"
    assert m["content"] == "\n\nanswer"
    assert segment_pairs(m)[0] == ("reasoning", "thinking")


def test_several_think_blocks_join(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["<think>a</think>x<think>b</think>y"])
    assert m["reasoning"] == "ab"
    assert m["content"] == "xy"
    assert [k for k, _ in segment_pairs(m)].count("reasoning") == 2


def test_empty_stream(backend: Any) -> None:
    deltas, m = run(backend.StreamParser, [])
    assert deltas == [("", "", [], None)]
    assert m["segments"] == [] and m["reasoning"] == "" and m["content"] == ""
    p = backend.StreamParser()
    assert not p.feed("")
    assert not p.finish()


def test_only_tags(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["<think></think>"])
    assert segment_pairs(m) == [("tag", "<think>"), ("tag", "</think>")]
    assert m["reasoning"] == m["content"] == ""


def test_delta_bool_and_openai(backend: Any) -> None:
    p = backend.StreamParser()
    d = p.feed("<think>r</think>c")
    assert d
    assert d.to_openai() == {"reasoning_content": "r", "content": "c"}
    empty = p.feed("<")
    assert not empty and empty.to_openai() == {}


def test_invalid_utf8_becomes_replacement(backend: Any) -> None:
    raw = b"<think>a\xff\xfeb\xe2\x82</think>ok\xc3"
    p = backend.StreamParser()
    p.feed_bytes(raw)
    p.finish()
    m = p.message
    assert "".join(s.text for s in m.segments) == raw.decode("utf-8", "replace")
    assert m.reasoning == "a\ufffd\ufffdb\ufffd"
    assert m.content == "ok\ufffd"


def test_split_utf8_sequence_is_held(backend: Any) -> None:
    emoji = "😀".encode()
    p = backend.StreamParser()
    assert p.feed_bytes(emoji[:1]).content == ""
    assert p.feed_bytes(emoji[1:3]).content == ""
    assert p.feed_bytes(emoji[3:] + b"!").content == "😀!"


def test_lone_surrogate_in_str_is_data(backend: Any) -> None:
    p = backend.StreamParser()
    d = p.feed("a\ud800b")
    assert d.content == "a\ufffd\ufffd\ufffdb"  # the three bytes of the surrogate's encoding


def test_bytearray_and_memoryview(backend: Any) -> None:
    p = backend.StreamParser()
    assert p.feed_bytes(bytearray(b"<think>x")).reasoning == "x"
    assert p.feed_bytes(memoryview(b"y</think>z")).content == "z"


def test_keep_message_false_keeps_no_text(backend: Any) -> None:
    p = backend.StreamParser(keep_message=False)
    d = p.feed("<think>abc</think>answer")
    assert (d.reasoning, d.content) == ("abc", "answer")
    p.finish()
    m = message_to_dict(p.message)
    assert m["segments"] == [] and m["reasoning"] == "" and m["content"] == ""
    assert m["reasoning_tokens"] == 0


def test_joined_deltas_equal_message(backend: Any) -> None:
    chunks = ["pre<th", "ink>r", "ea", "son</", "think>", "ans", "<", "wer"]
    deltas, m = run(backend.StreamParser, chunks)
    r, c, _ = joined(deltas)
    assert (r, c) == (m["reasoning"], m["content"])
    assert "".join(t for _, t in segment_pairs(m)) == "".join(chunks)


@pytest.mark.parametrize("chunk", ["<think>", "</think>", "<", "<think", "x"])
def test_feed_is_append_only_under_repetition(backend: Any, chunk: str) -> None:
    text = chunk * 50
    deltas, m = run(backend.StreamParser, list(text))
    r, c, _ = joined(deltas)
    assert (r, c) == (m["reasoning"], m["content"])
    assert "".join(t for _, t in segment_pairs(m)) == text
