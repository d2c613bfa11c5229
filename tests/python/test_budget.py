"""Reasoning budget in text mode (SPEC rule 13), on both backends."""

from __future__ import annotations

from typing import Any

from helpers import run, segment_pairs

CLOSE = "\n</think>\n"


def test_budget_forces_close_after_counted_tokens(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=3)
    assert p.feed("<think>").forced is None  # in content at its first byte: not counted
    assert p.feed("a").forced is None
    assert p.feed("b").forced is None
    d = p.feed("c")
    assert d.forced is not None and d.forced.text == CLOSE and d.forced.token_ids is None
    assert d.reasoning == "c"
    # After a forced close the state is content, exactly as after a natural </think>.
    d = p.feed("answer")
    assert (d.reasoning, d.content, d.forced) == ("", "answer", None)
    p.finish()
    m = p.message
    assert m.budget_exceeded and m.reasoning_tokens == 3
    assert m.reasoning == "abc" and m.content == "answer"
    assert [s.kind for s in m.segments] == ["tag", "reasoning", "forced", "content"]
    assert "".join(s.text for s in m.segments) == "<think>abc" + CLOSE + "answer"


def test_model_close_after_forced_close_is_absorbed(backend: Any) -> None:
    _, m = run(
        backend.StreamParser,
        ["<think>", "a", "b", "\n ", "</th", "ink>", "Final"],
        reasoning_budget=2,
    )
    assert m["budget_exceeded"]
    assert m["content"] == "\n Final"
    kinds = [k for k, _ in segment_pairs(m)]
    assert kinds == ["tag", "reasoning", "forced", "content", "tag", "content"]
    assert segment_pairs(m)[4] == ("tag", "</think>")


def test_close_after_non_whitespace_is_content(backend: Any) -> None:
    _, m = run(backend.StreamParser, ["<think>", "a", "x</think>y"], reasoning_budget=1)
    assert m["content"] == "x</think>y"
    _, m = run(backend.StreamParser, ["<think>", "a", "</think></think>"], reasoning_budget=1)
    assert m["content"] == "</think>"  # only the first is absorbed


def test_budget_zero_closes_right_after_think(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=0)
    d = p.feed("<think>abc", 2)
    assert d.forced is not None and d.content == "abc" and d.reasoning == ""
    p.finish()
    assert [s.kind for s in p.message.segments] == ["tag", "forced", "content"]


def test_budget_zero_prompt_opened(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=0, start_in_reasoning=True)
    d = p.feed("x")
    assert d.forced is not None and d.content == "x"
    assert p.message.reasoning_tokens == 0
    q = backend.StreamParser(reasoning_budget=0, start_in_reasoning=True)
    assert q.finish().forced is not None


def test_budget_hit_inside_multi_token_delta(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=10, start_in_reasoning=True)
    assert p.feed("abcdefgh", 8).forced is None
    d = p.feed("ijkl", 4)  # crosses 10 inside this delta: forced after it
    assert d.reasoning == "ijkl" and d.forced is not None
    assert p.feed("z").content == "z"
    assert p.message.reasoning_tokens == 12 and p.message.budget_exceeded


def test_budget_not_forced_when_delta_closes_itself(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=3, start_in_reasoning=True)
    d = p.feed("ab</think>answer", 5)
    assert d.forced is None and d.content == "answer"
    assert p.message.reasoning_tokens == 5 and not p.message.budget_exceeded


def test_held_tag_prefix_released_before_forced_close(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=2, start_in_reasoning=True)
    p.feed("a")
    d = p.feed("b</thi")
    assert d.reasoning == "b</thi" and d.forced is not None
    # "</thi" went out as reasoning, so the rest of the model's tag is plain content.
    assert p.feed("nk>").content == "nk>"
    p.finish()
    assert [s.kind for s in p.message.segments] == ["reasoning", "forced", "content"]


def test_held_utf8_released_before_forced_close(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=1, start_in_reasoning=True)
    d = p.feed_bytes("é".encode()[:1])
    assert d.reasoning == "\ufffd" and d.forced is not None


def test_budget_counts_across_think_blocks(backend: Any) -> None:
    chunks = ["<think>", "a", "</think>", "x", "<think>", "b", "c"]
    deltas, m = run(backend.StreamParser, chunks, reasoning_budget=3)
    # "a", "</think>" (inside reasoning at its first byte) and "b" count.
    assert m["reasoning_tokens"] == 3
    assert [i for i, d in enumerate(deltas) if d[3] is not None] == [5]
    assert m["content"] == "xc"


def test_exceeded_budget_closes_every_later_think(backend: Any) -> None:
    deltas, m = run(backend.StreamParser, ["<think>", "a", "b<think>c<think>d"], reasoning_budget=1)
    forced = [d[3] for d in deltas if d[3] is not None]
    assert forced[-1][0] == "\n</think>\n" * 2  # two closes in one delta are concatenated
    assert m["content"].endswith("cd")


def test_unlimited_budget(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=None, start_in_reasoning=True)
    for _ in range(1000):
        assert p.feed("x", 100).forced is None
    assert p.message.reasoning_tokens == 100_000


def test_custom_close_text(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=1, budget_close_text="</think>", start_in_reasoning=True)
    assert p.feed("a").forced.text == "</think>"
