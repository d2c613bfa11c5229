"""BatchParser: one native call per engine step, identical to one StreamParser per stream."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import hermes_stream as hs
from helpers import delta_data
from hermes_stream._types import message_to_dict
from strategies import chunked, tool_streams

OPTS = {"reasoning_budget": 4, "id_factory": lambda i: f"call_{i}"}


@given(st.lists(chunked(tool_streams()), min_size=1, max_size=6))
def test_same_as_one_parser_per_stream(cases: list[tuple[str, list[str]]]) -> None:
    batch = hs.BatchParser(**OPTS)
    singles = {}
    for sid in range(len(cases)):
        batch.add(sid)
        singles[sid] = hs.StreamParser(**OPTS)
    steps = max(len(chunks) for _, chunks in cases)
    for k in range(steps):
        items = [(sid, chunks[k]) for sid, (_, chunks) in enumerate(cases) if k < len(chunks)]
        got = batch.feed_many(items)
        assert set(got) == {sid for sid, _ in items}
        for sid, piece in items:
            assert delta_data(got[sid]) == delta_data(singles[sid].feed(piece))
    for sid in singles:
        assert delta_data(batch.finish(sid)) == delta_data(singles[sid].finish())
        assert message_to_dict(batch.message(sid)) == message_to_dict(singles[sid].message)


def test_bytes_token_ids_and_overrides() -> None:
    vocab = hs.Vocab.from_pieces([b"<think>", b"</think>", b"a", b"\xe2\x82", b"\xac"])
    batch = hs.BatchParser(reasoning_budget=None)
    batch.add("ids", vocab=vocab)
    batch.add("bytes", start_in_reasoning=True)
    out = batch.feed_many([("ids", [0, 2, 3]), ("bytes", b"x\xe2\x82")])
    assert (out["ids"].reasoning, out["bytes"].reasoning) == ("a", "x")  # partial € held
    out = batch.feed_many([("ids", (4, 1, 2)), ("bytes", b"\xac</think>y")])
    assert (out["ids"].reasoning, out["ids"].content) == ("€", "a")
    assert (out["bytes"].reasoning, out["bytes"].content) == ("€", "y")
    assert batch.message("ids").reasoning_tokens == 4  # a, \xe2\x82, \xac and </think> itself
    batch.drop("ids")
    assert "ids" not in batch and len(batch) == 1


@pytest.mark.parametrize(
    "ids", [[2, True], [2, "a"], [2.0], [2, 1 << 64], [2, 99], [-1]], ids=repr
)
def test_bad_token_ids_raise_as_feed_tokens_does(ids: list[Any]) -> None:
    # One conversion for both entry points: same exception type, same message; nothing consumed.
    vocab = hs.Vocab.from_pieces([b"<think>", b"</think>", b"a", b"\n"])
    parser = hs.StreamParser(vocab=vocab)
    batch = hs.BatchParser()
    batch.add("s", vocab=vocab)
    with pytest.raises((TypeError, ValueError)) as single:
        parser.feed_tokens(ids)
    with pytest.raises((TypeError, ValueError)) as many:
        batch.feed_many([("s", ids)])
    assert (type(many.value), str(many.value)) == (type(single.value), str(single.value))
    assert batch.feed_many([("s", [2])])["s"].content == parser.feed_tokens([2]).content == "a"


def test_misuse_raises_clearly() -> None:
    batch = hs.BatchParser()
    batch.add("a")
    with pytest.raises(ValueError, match="already exists"):
        batch.add("a")
    with pytest.raises(KeyError, match="unknown stream"):
        batch.feed_many([("b", "x")])
    with pytest.raises(ValueError, match="twice"):
        batch.feed_many([("a", "x"), ("a", "y")])
    with pytest.raises(TypeError):
        batch.feed_many([("a", 5)])
    with pytest.raises(TypeError):
        batch.feed_many(["a"])
    with pytest.raises(RuntimeError, match="vocab"):
        batch.feed_many([("a", [1, 2])])
    with pytest.raises(TypeError):
        hs.BatchParser(reasoning_budget="x")
    batch.finish("a")
    with pytest.raises(RuntimeError, match="finished"):
        batch.feed_many([("a", "late")])
    with pytest.raises(KeyError):
        batch.message("zzz")
    assert batch.message("a").content == ""  # the failed calls consumed nothing


def _worker(n: int, results: dict[int, Any], errors: list[BaseException]) -> None:
    try:
        batch = hs.BatchParser(reasoning_budget=None)
        for sid in range(8):
            batch.add(sid)
        text = f"<think>thread {n} thinks</think>answer {n} " * 50
        for k in range(0, len(text), 7):
            batch.feed_many([(sid, text[k : k + 7]) for sid in range(8)])
        single = hs.StreamParser(reasoning_budget=None)
        for k in range(0, len(text), 7):
            single.feed(text[k : k + 7])
        single.finish()
        for sid in range(8):
            batch.finish(sid)
            assert message_to_dict(batch.message(sid)) == message_to_dict(single.message)
        results[n] = True
    except BaseException as exc:  # reported by the main thread
        errors.append(exc)


def test_concurrent_parsers_on_threads() -> None:
    """Separate parsers on separate threads, parsing with the GIL released; the join timeout
    is the deadlock detector."""
    results: dict[int, Any] = {}
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_worker, args=(n, results, errors)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a thread did not finish: deadlock?"
    assert not errors, errors
    assert sorted(results) == [0, 1, 2, 3]


def test_add_compiles_the_shared_options_once() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {
        "type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}}}]
    vocab = hs.Vocab.from_pieces([b"\n", b"<think>", b"</think>", b"a"])
    b = hs.BatchParser(tools=tools, vocab=vocab, reasoning_budget=1)
    for k in range(3):
        b.add(k)
    b.add("budget", reasoning_budget=0)
    b.add("own", tools=tools)
    shared = b.parser(0)._opts.tools
    assert b.parser(1)._opts.tools is shared and b.parser(2)._opts.tools is shared
    assert b.parser("budget")._opts.tools is shared  # an override of another option keeps it
    assert b.parser("own")._opts.tools is not shared
    text = '<tool_call>{"name": "f", "arguments": {"a": "x"}}</tool_call>'
    out = b.feed_many([(k, text) for k in (0, "budget", "own")])
    assert set(out) == {0, "budget", "own"}
    for k in (0, "budget", "own"):
        b.finish(k)
        (call,) = b.message(k).tool_calls
        assert call.error is not None and call.error.startswith("schema: /a: type")
    # token ids reach every stream the same way: the cached close ids force the same close
    d = b.feed_many([(1, [1, 3, 3, 3])])[1]
    assert d.forced is not None and d.forced.token_ids == vocab.encode("\n</think>\n")
