"""Loop guard (issue 15): exact detection of a repeating reasoning trace, report and close modes.

Every detection is checked against ``first_loop``, the rule straight from its definition (every
period, every prefix, runs counted afresh), and native == reference under Hypothesis over random
streams, chunkings and guard settings, in token mode (``feed_tokens``) and byte mode (``feed``).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import hermes_stream as hs
from helpers import segment_pairs
from hermes_stream._types import message_to_dict
from hermes_stream.reference.loop_guard import LoopDetector

# A byte vocabulary plus the tags as single tokens (Qwen3-like): id b is the byte b.
THINK, END_THINK, CALL, END_CALL, IM_END = 256, 257, 258, 259, 260
VOCAB = hs.Vocab.from_pieces(
    [bytes([b]) for b in range(256)]
    + [b"<think>", b"</think>", b"<tool_call>", b"</tool_call>", b"<|im_end|>"],
    eot_ids=[IM_END],
)
CLOSE_IDS = VOCAB.encode("\n</think>\n")
SMALL = dict(min_repeats=4, max_period=12, min_span=30)  # a guard tests can trip quickly


def first_loop(units: list[int], m: int, max_p: int, span: int) -> tuple[int, ...] | None:
    """(period, repeats, start, end) at the first prefix where the rule holds, smallest period."""
    for n in range(1, len(units) + 1):
        for p in range(1, min(max_p, n - 1) + 1):
            run = 0
            while run < n - p and units[n - 1 - run] == units[n - 1 - run - p]:
                run += 1
            length = run + p
            if length >= m * p and length >= span:
                return (p, length // p, n - length, n)
    return None


def info(loop: Any) -> tuple[int, ...]:
    return (loop.period, loop.repeats, loop.start, loop.end)


def delta_data(d: Any) -> tuple[Any, ...]:
    forced = None if d.forced is None else (d.forced.text, d.forced.token_ids)
    return (d.reasoning, d.content, forced, d.loop)


def run_text(cls: Any, chunks: list[str], **opts: Any) -> tuple[list[Any], dict[str, Any]]:
    p = cls(**opts)
    deltas = [delta_data(p.feed(c)) for c in chunks]
    deltas.append(delta_data(p.finish()))
    return deltas, message_to_dict(p.message)


def run_tokens(cls: Any, chunks: list[list[int]], **opts: Any) -> tuple[list[Any], dict[str, Any]]:
    p = cls(vocab=VOCAB, **opts)
    deltas = []
    for c in chunks:
        deltas.append(delta_data(p.feed_tokens(c)))
        if p.finished:
            break
    if not p.finished:
        deltas.append(delta_data(p.finish()))
    return deltas, message_to_dict(p.message)


def split(seq: Any, rng: random.Random, max_cuts: int = 12) -> list[Any]:
    cuts = sorted(rng.randrange(len(seq) + 1) for _ in range(rng.randrange(max_cuts + 1)))
    out, prev = [], 0
    for c in cuts + [len(seq)]:
        out.append(seq[prev:c])
        prev = c
    return out


def natural_prefix(rng: random.Random, n: int) -> str:
    words = ["first", "we", "note", "that", "the", "sum", "of", "two", "odd", "numbers", "is",
             "even", "so", "check", "case", "k", "=", "3,", "then", "4."]
    out = []
    while sum(len(w) + 1 for w in out) < n:
        out.append(rng.choice(words))
    return " ".join(out) + " "


# ----------------------------------------------------------------------------- detection
@pytest.mark.parametrize("mode", ["bytes", "tokens"])
def test_synthetic_loops_every_period(backend: Any, mode: str) -> None:
    """Periods 1..max_period after a natural prefix, random chunkings: found exactly where the
    rule is first met (never before, never later), in the delta that carries that unit."""
    cls = backend.StreamParser
    guard = hs.LoopGuard(**SMALL)
    rng = random.Random(15 + len(mode))
    for period in range(1, SMALL["max_period"] + 1):
        for _ in range(3):
            prefix = natural_prefix(rng, rng.randrange(0, 80))
            span = "".join(rng.choice("abcdefghij;, ") for _ in range(period))
            reasoning = prefix + span * max(8, 60 // period) + "tail"
            text = "<think>" + reasoning + "</think>answer"
            units = list(reasoning.encode())  # one byte per token with this vocab
            expected = first_loop(units, 4, 12, 30)
            assert expected is not None and expected[0] <= period
            if mode == "bytes":
                p = cls(loop_guard=guard, reasoning_budget=None)
                deltas = [p.feed(c) for c in split(text, rng)]
            else:
                p = cls(loop_guard=guard, reasoning_budget=None, vocab=VOCAB)
                ids = [THINK] + units + [END_THINK] + list(b"answer")
                deltas = [p.feed_tokens(c) for c in split(ids, rng)]
            deltas.append(p.finish())
            hits = [(i, d.loop) for i, d in enumerate(deltas) if d.loop is not None]
            assert len(hits) == 1
            i, loop = hits[0]
            assert info(loop) == expected and loop.unit == mode
            assert expected[1] >= 4 and expected[3] - expected[2] >= 30
            # The delta that completes the rule: reasoning before it is shorter than `end`.
            before = sum(len(d.reasoning.encode()) for d in deltas[:i])
            assert before < loop.end <= before + len(deltas[i].reasoning.encode())
            m = p.message
            assert m.loop_detected and m.loops == [loop] and not m.loop_closed
            assert m.reasoning == reasoning and m.content == "answer"  # report only


def test_loop_longer_than_max_period_is_not_reported(backend: Any) -> None:
    span = "".join(chr(ord("a") + i) for i in range(13))  # period 13 > max_period 12
    m = backend.StreamParser(loop_guard=hs.LoopGuard(**SMALL)).feed("<think>" + span * 40)
    assert m.loop is None


def test_regions_do_not_join_and_offsets_are_message_wide(backend: Any) -> None:
    p = backend.StreamParser(loop_guard=hs.LoopGuard(**SMALL), reasoning_budget=None)
    p.feed("<think>" + "xy" * 10 + "</think>ok<think>" + "xy" * 10 + "</think>")
    assert not p.message.loop_detected  # 20 + 20 units, but each region is short of min_span
    p.feed("<think>" + "xy" * 20 + "</think>")
    p.finish()
    assert [info(x) for x in p.message.loops] == [(2, 15, 40, 70)]


units_strategy = st.lists(
    st.one_of(
        st.lists(st.integers(0, 3), min_size=1, max_size=6),  # fresh units, small alphabet
        st.tuples(st.integers(1, 14), st.integers(1, 12)),  # repeat the last k units r times
    ),
    max_size=25,
)


def build_units(plan: list[Any]) -> list[int]:
    units: list[int] = []
    for step in plan:
        if isinstance(step, list):
            units.extend(step)
        elif units:
            k, r = step
            piece = units[-min(k, len(units)):]
            units.extend(piece * r)
    return units


@given(
    plan=units_strategy,
    m=st.integers(3, 6),
    max_p=st.integers(1, 14),
    span=st.integers(1, 60),
)
def test_reference_detector_matches_definition(plan: list[Any], m: int, max_p: int,
                                               span: int) -> None:
    units = build_units(plan)
    det = LoopDetector(m, max_p, span)
    got = None
    for u in units:
        got = det.push(u)
        if got is not None:
            break
    assert got == first_loop(units, m, max_p, span)


@given(
    plan=units_strategy,
    m=st.integers(3, 6),
    max_p=st.integers(1, 14),
    span=st.integers(1, 60),
    seed=st.integers(0, 2**32),
)
def test_token_mode_native_equals_reference_equals_definition(
    plan: list[Any], m: int, max_p: int, span: int, seed: int
) -> None:
    units = build_units(plan)
    ids = [THINK] + [ord("a") + u for u in units]
    chunks = split(ids, random.Random(seed))
    guard = hs.LoopGuard(min_repeats=m, max_period=max_p, min_span=span)
    native = run_tokens(hs.StreamParser, chunks, loop_guard=guard, reasoning_budget=None)
    ref = run_tokens(hs.reference.StreamParser, chunks, loop_guard=guard, reasoning_budget=None)
    assert native == ref
    loops = [info(hs.LoopInfo(**x)) for x in native[1]["loops"]]
    expected = first_loop(units, m, max_p, span)
    event(f"loop={expected is not None}")
    assert loops == ([] if expected is None else [expected])


# Streams with several think blocks, tool calls, tags inside reasoning, multi-byte text.
STREAM_PARTS = ["<think>", "</think>", "<tool_call>", "</tool_call>", "<", "ab", "ab", "ab", "a",
                "b", " ", "\n", "é", "中", "xyz", "xyz", "xyz", '{"name": "f", "arguments": {}}']


@given(
    parts=st.lists(st.sampled_from(STREAM_PARTS) | st.tuples(st.sampled_from(["ab", "xyz", "é ",
                   "q"]), st.integers(1, 30)).map(lambda t: t[0] * t[1]), max_size=30),
    m=st.integers(3, 5),
    max_p=st.integers(1, 8),
    span=st.integers(1, 40),
    on_loop=st.sampled_from(["report", "close"]),
    budget=st.none() | st.integers(0, 30),
    start_in_reasoning=st.booleans(),
    tool_calls_in_reasoning=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_byte_mode_native_equals_reference(parts: list[str], m: int, max_p: int, span: int,
                                           on_loop: str, budget: int | None,
                                           start_in_reasoning: bool,
                                           tool_calls_in_reasoning: bool, seed: int) -> None:
    text = "".join(parts)
    chunks = split(text, random.Random(seed))
    opts = dict(
        loop_guard=hs.LoopGuard(min_repeats=m, max_period=max_p, min_span=span, on_loop=on_loop),
        reasoning_budget=budget,
        start_in_reasoning=start_in_reasoning,
        tool_calls_in_reasoning=tool_calls_in_reasoning,
        id_factory=lambda i: f"call_{i}",
    )
    native = run_text(hs.StreamParser, chunks, **opts)
    ref = run_text(hs.reference.StreamParser, chunks, **opts)
    assert native == ref
    event(f"loops={len(native[1]['loops'])} closed={native[1]['loop_closed']}")
    if on_loop == "report" and budget is None:
        # Report mode never changes parsing, and detections do not depend on the chunking (the
        # token counts of text feeds do, hence no budget here).
        whole = run_text(hs.StreamParser, [text], **opts)[1]
        assert (whole["segments"], whole["loops"]) == (native[1]["segments"], native[1]["loops"])
        plain = {k: v for k, v in opts.items() if k != "loop_guard"}
        assert run_text(hs.StreamParser, chunks, **plain)[1]["segments"] == native[1]["segments"]
    # Region by region, each detection is the definition's on that region's reasoning bytes.
    reasoning = "".join(t for k, t in segment_pairs(native[1]) if k == "reasoning").encode()
    for loop in (hs.LoopInfo(**x) for x in native[1]["loops"]):
        assert loop.unit == "bytes" and loop.end <= len(reasoning)
        assert loop.repeats >= m and loop.end - loop.start >= span and loop.period <= max_p
        window = reasoning[loop.start : loop.end]
        assert window[loop.period :] == window[: -loop.period]


@given(
    plan=st.lists(st.sampled_from([[THINK], [END_THINK], [CALL], [END_CALL], [IM_END], [60]])
                  | st.lists(st.integers(97, 99), min_size=1, max_size=4)
                  | st.tuples(st.integers(1, 6), st.integers(1, 20)), max_size=20),
    on_loop=st.sampled_from(["report", "close"]),
    budget=st.none() | st.integers(0, 40),
    start_in_reasoning=st.booleans(),
    seed=st.integers(0, 2**32),
)
def test_token_mode_with_tags_native_equals_reference(plan: list[Any], on_loop: str,
                                                      budget: int | None,
                                                      start_in_reasoning: bool,
                                                      seed: int) -> None:
    ids = build_units(plan)
    chunks = split(ids, random.Random(seed))
    opts = dict(
        loop_guard=hs.LoopGuard(min_repeats=3, max_period=6, min_span=12, on_loop=on_loop),
        reasoning_budget=budget,
        start_in_reasoning=start_in_reasoning,
        id_factory=lambda i: f"call_{i}",
    )
    native = run_tokens(hs.StreamParser, chunks, **opts)
    assert native == run_tokens(hs.reference.StreamParser, chunks, **opts)
    event(f"loops={len(native[1]['loops'])} closed={native[1]['loop_closed']}")
    # Token mode is chunking-invariant in both modes (every id is its own piece).
    one_by_one = run_tokens(hs.StreamParser, [[i] for i in ids], **opts)
    assert one_by_one[1] == native[1]


# ----------------------------------------------------------------------------- close mode
def test_close_in_token_mode_forces_like_the_budget(backend: Any) -> None:
    guard = hs.LoopGuard(**SMALL, on_loop="close")
    p = backend.StreamParser(vocab=VOCAB, loop_guard=guard, reasoning_budget=None)
    p.feed_tokens([THINK] + list(b"plan: "))
    forced = None
    for step in range(200):
        d = p.feed_tokens(ord("a") + step % 3)
        if d.forced is not None:
            forced = d
            break
    assert forced is not None and forced.loop is not None
    assert forced.forced.text == "\n</think>\n" and forced.forced.token_ids == CLOSE_IDS
    assert info(forced.loop) == (3, 10, 6, 36)  # max(4 * 3, 30) = 30 units after "plan: "
    assert not p.message.budget_exceeded and p.message.loop_closed
    assert p.message.reasoning_tokens == 36  # "plan: " + 30 looping ids; the rest is content
    # A sampler emits the forced ids next: their </think> is absorbed as a tag.
    q = backend.StreamParser(vocab=VOCAB, loop_guard=guard, reasoning_budget=None)
    for tid in [THINK] + list(b"plan: ") + [ord("a") + i % 3 for i in range(30)]:
        q.feed_tokens(tid)
    assert q.message.loop_closed
    for tid in CLOSE_IDS + list(b"Answer."):
        assert q.feed_tokens(tid).forced is None
    q.finish()
    m = q.message
    assert m.content == "\n\nAnswer." and m.loop_detected and m.loop_closed
    assert [s.kind for s in m.segments] == ["tag", "reasoning", "forced", "content", "tag",
                                            "content"]
    # A server appending the close text instead: the model's own </think> is absorbed.
    for tid in [ord(" "), END_THINK] + list(b"Answer."):
        assert p.feed_tokens(tid).forced is None
    p.finish()
    m = p.message
    assert m.content == " Answer." and m.segments[-2] == hs.Segment("tag", "</think>")
    assert [s.kind for s in m.segments].count("forced") == 1


def test_close_in_byte_mode_forces_at_end_of_delta(backend: Any) -> None:
    guard = hs.LoopGuard(**SMALL, on_loop="close")
    p = backend.StreamParser(loop_guard=guard, reasoning_budget=None)
    d = p.feed("<think>" + "same line\n" * 10)
    assert d.loop is not None and d.forced is not None and d.forced.token_ids is None
    assert d.reasoning == "same line\n" * 10  # the whole delta stays reasoning
    d2 = p.feed("\n</think>\nThe answer.")
    assert d2.content == "\n\nThe answer."
    p.finish()
    m = p.message
    assert m.loop_closed and not m.budget_exceeded
    assert [s.kind for s in m.segments] == ["tag", "reasoning", "forced", "content", "tag",
                                            "content"]


def test_budget_and_guard_force_at_most_once(backend: Any) -> None:
    guard = hs.LoopGuard(min_repeats=3, max_period=4, min_span=6, on_loop="close")
    # Rule met at the 6th reasoning token, budget 6 too: the budget wins, the loop is reported.
    p = backend.StreamParser(vocab=VOCAB, loop_guard=guard, reasoning_budget=6)
    deltas = [p.feed_tokens(t) for t in [THINK] + [ord("z")] * 8]
    assert sum(d.forced is not None for d in deltas) == 1
    assert deltas[6].forced is not None and deltas[6].loop is not None
    m = p.message
    assert m.budget_exceeded and m.loop_detected and not m.loop_closed
    # Loop first, budget later: the loop closes, the budget never fires in that region.
    p = backend.StreamParser(vocab=VOCAB, loop_guard=guard, reasoning_budget=7)
    deltas = [p.feed_tokens(t) for t in [THINK] + [ord("z")] * 8]
    assert [i for i, d in enumerate(deltas) if d.forced is not None] == [6]
    assert p.message.loop_closed and not p.message.budget_exceeded


def test_a_new_think_block_after_a_close_is_watched_again(backend: Any) -> None:
    guard = hs.LoopGuard(min_repeats=3, max_period=4, min_span=6, on_loop="close")
    p = backend.StreamParser(loop_guard=guard, reasoning_budget=None)
    p.feed("<think>" + "ab" * 5)
    p.feed("answer<think>" + "cd" * 5)
    p.finish()
    m = p.message
    assert [s.kind for s in m.segments].count("forced") == 2
    assert [info(x) for x in m.loops] == [(2, 3, 0, 6), (2, 3, 10, 16)]


# ----------------------------------------------------------------------------- surfaces
def test_parse_equals_streaming_one_delta() -> None:
    text = "<think>" + natural_prefix(random.Random(1), 40) + "yes no " * 20 + "</think>done"
    for guard in (hs.LoopGuard(**SMALL), hs.LoopGuard(**SMALL, on_loop="close")):
        m = hs.parse(text, loop_guard=guard)
        p = hs.StreamParser(loop_guard=guard)
        p.feed(text)
        p.finish()
        assert m == p.message and m.loop_detected
        assert hs.reference.parse(text, loop_guard=guard) == m


def test_batch_parser_equals_stream_parser() -> None:
    rng = random.Random(3)
    guard = hs.LoopGuard(**SMALL, on_loop="close")
    streams = {
        "text": split("<think>" + "ok " * 30 + "</think>end", rng),
        "tokens": [list(c) for c in split([THINK] + list(b"hm " * 30) + [END_THINK], rng)],
        "clean": split("<think>no loop here at all</think>fine", rng),
    }
    batch = hs.BatchParser(loop_guard=guard, vocab=VOCAB, reasoning_budget=None)
    singles = {}
    for sid in streams:
        batch.add(sid)
        singles[sid] = hs.StreamParser(loop_guard=guard, vocab=VOCAB, reasoning_budget=None)
    steps = max(len(c) for c in streams.values())
    for k in range(steps):
        items = [(sid, c[k]) for sid, c in streams.items() if k < len(c)]
        out = batch.feed_many(items)
        for sid, chunk in items:
            p = singles[sid]
            single = p.feed_tokens(chunk) if isinstance(chunk, list) else p.feed(chunk)
            assert delta_data(out[sid]) == delta_data(single)
    for sid in streams:
        assert delta_data(batch.finish(sid)) == delta_data(singles[sid].finish())
        assert batch.message(sid) == singles[sid].message
    assert batch.message("text").loop_closed and batch.message("tokens").loop_closed
    assert not batch.message("clean").loop_detected


def test_batch_mixing_units_raises_before_feeding_anything() -> None:
    batch = hs.BatchParser(loop_guard=hs.LoopGuard(), vocab=VOCAB)
    batch.add("a")
    batch.add("b")
    batch.feed_many([("a", "<think>x"), ("b", [THINK])])
    with pytest.raises(RuntimeError, match="cannot mix"):
        batch.feed_many([("a", "more"), ("b", "text now")])
    assert batch.message("a").reasoning == "x"  # "more" was not consumed either


def test_mixing_units_raises(backend: Any) -> None:
    p = backend.StreamParser(loop_guard=hs.LoopGuard(), vocab=VOCAB)
    p.feed_tokens([THINK, 97])
    with pytest.raises(RuntimeError, match="cannot mix"):
        p.feed("text")
    assert p.feed_tokens(98).reasoning == "b"  # still usable in its own unit
    q = backend.StreamParser(vocab=VOCAB)  # without a guard, mixing is allowed as before
    q.feed_tokens([THINK, 97])
    assert q.feed("b").reasoning == "b"


def test_delta_loop_fields_and_bool() -> None:
    p = hs.StreamParser(vocab=VOCAB, loop_guard=hs.LoopGuard(min_repeats=3, max_period=2,
                                                             min_span=3))
    p.feed_tokens([THINK, 60, 60])  # "<<" is held: could start </think>... it cannot, but "<" can
    d = p.feed_tokens(60)
    assert d.loop is not None and bool(d)
    assert repr(d).endswith("unit='tokens'))")
    assert hs.Delta(loop=d.loop) == hs.reference.Delta(loop=d.loop)
    assert not hs.Delta() and bool(hs.Delta(loop=d.loop))
    assert set(d.to_openai()) <= {"reasoning_content", "content"}  # loop is not an OpenAI field
    assert p.message.loops == [d.loop] and d.loop.period == 1


def test_no_guard_by_default() -> None:
    p = hs.StreamParser()
    d = p.feed("<think>" + "a" * 5000)
    assert d.loop is None and not p.message.loop_detected and p.message.loops == []


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        (dict(min_repeats=2), ValueError),
        (dict(min_repeats=1.5), TypeError),
        (dict(min_repeats=True), TypeError),
        (dict(max_period=0), ValueError),
        (dict(max_period=70_000), ValueError),
        (dict(max_period="8"), TypeError),
        (dict(min_span=0), ValueError),
        (dict(on_loop="stop"), ValueError),
        (dict(on_loop=None), TypeError),
    ],
)
def test_guard_validation(kwargs: dict[str, Any], exc: type) -> None:
    with pytest.raises(exc, match="LoopGuard"):
        hs.LoopGuard(**kwargs)


def test_loop_guard_option_type_is_checked(backend: Any) -> None:
    with pytest.raises(TypeError, match="loop_guard must be"):
        backend.StreamParser(loop_guard=True)
    with pytest.raises(TypeError, match="loop_guard must be"):
        backend.StreamParser(loop_guard={"on_loop": "close"})


def test_defaults_resolve_per_unit() -> None:
    g = hs.LoopGuard()
    assert g.resolved("tokens") == (8, 256, 512) and g.resolved("bytes") == (8, 1024, 2048)
    assert hs.LoopGuard(max_period=64, min_span=100).resolved("bytes") == (8, 64, 100)


def test_from_request() -> None:
    assert hs.LoopGuard.from_request(None) is None
    assert hs.LoopGuard.from_request(False) is None
    assert hs.LoopGuard.from_request(True) == hs.LoopGuard()
    assert hs.LoopGuard.from_request("close") == hs.LoopGuard(on_loop="close")
    assert hs.LoopGuard.from_request({"on_loop": "close", "min_repeats": 12}) == hs.LoopGuard(
        min_repeats=12, on_loop="close"
    )
    g = hs.LoopGuard(min_span=9)
    assert hs.LoopGuard.from_request(g) is g
    # vLLM's vllm_xargs values are str/int/float/list only: the same as strings
    assert hs.LoopGuard.from_request('{"on_loop": "close", "min_repeats": 12}') == hs.LoopGuard(
        min_repeats=12, on_loop="close")
    assert hs.LoopGuard.from_request(" true ") == hs.LoopGuard()
    assert hs.LoopGuard.from_request("off") is None and hs.LoopGuard.from_request("false") is None
    for bad in ({"on_loop": "halt"}, {"min_repeats": "8"}, {"period": 3}, 3, [1], "yes", 1.0,
                "{not json", '{"period": 3}', "[1, 2]"):
        with pytest.raises(ValueError, match="invalid loop_guard"):
            hs.LoopGuard.from_request(bad)


def test_model_output_never_raises_with_a_guard() -> None:
    rng = random.Random(9)
    guard = hs.LoopGuard(min_repeats=3, max_period=64, min_span=8, on_loop="close")
    for _ in range(50):
        data = bytes(rng.choice(b"<>/thinkab\xff\xc3 ") for _ in range(rng.randrange(400)))
        p = hs.StreamParser(loop_guard=guard, start_in_reasoning=rng.random() < 0.5)
        for chunk in split(data, rng):
            p.feed_bytes(chunk)
        p.finish()
        joined = "".join(s.text for s in p.message.segments if s.kind != "forced")
        assert joined == data.decode("utf-8", "replace")


# ----------------------------------------------------------------------------- transformers
QWEN3 = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "tokenizers" / "qwen3"


def test_transformers_processor_closes_a_looping_row() -> None:
    """model.generate on a tiny random Qwen3 with a scripted output per row: the row that starts
    looping gets the forced close right after the token that meets the rule; the other row is
    left alone; a parser fed the returned ids agrees."""
    torch = pytest.importorskip("torch", reason="integration test: needs torch")
    transformers = pytest.importorskip("transformers", reason="integration test: needs transformers")
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent: needs ../shared/reference")
    from hermes_stream.integrations.transformers import ReasoningBudgetProcessor

    tok = transformers.AutoTokenizer.from_pretrained(str(QWEN3))
    tok.padding_side = "left"
    vocab = hs.Vocab.from_tokenizer(tok)
    torch.manual_seed(0)
    config = transformers.Qwen3Config(
        vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=512,
        tie_word_embeddings=False, eos_token_id=[151645, 151643], pad_token_id=151643,
    )
    model = transformers.Qwen3ForCausalLM(config).eval()
    prompt = "<|im_start|>user\nCount.<|im_end|>\n<|im_start|>assistant\n<think>\n"
    prefix = tok.encode("Let me work this out step by step.")
    cycle = tok.encode(" and then we check it again,")
    steps = 90
    scripts = [(prefix + cycle * steps)[:steps], [1000 + 7 * i for i in range(steps)]]

    class Script(transformers.LogitsProcessor):  # the "model" output, before our processor
        def __init__(self, width: int) -> None:
            self.width = width

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            k = input_ids.shape[1] - self.width
            scores = scores.clone()
            for r, script in enumerate(scripts):
                scores[r, script[k]] = 1e4
            return scores

    guard = hs.LoopGuard(min_repeats=4, max_period=32, min_span=40, on_loop="close")
    proc = ReasoningBudgetProcessor(tok, None, start_in_reasoning=True, loop_guard=guard)
    enc = tok([prompt, prompt], return_tensors="pt", padding=True)
    width = enc["input_ids"].shape[1]
    with torch.no_grad():
        out = model.generate(**enc, logits_processor=[Script(width), proc], max_new_tokens=steps,
                             do_sample=False, pad_token_id=151643)
    gens = [row[width:] for row in out.tolist()]
    expected = first_loop(scripts[0], 4, 32, 40)
    assert expected is not None and expected[0] == len(cycle)
    at = expected[3]  # the forced close starts right after the token that met the rule
    assert gens[0][:at] == scripts[0][:at]
    assert gens[0][at : at + len(CLOSE_QWEN)] == CLOSE_QWEN
    assert proc.forced_positions == [[at], []]
    assert [[info(x) for x in row] for row in proc.loops] == [[expected], []]
    assert gens[1] == scripts[1]  # no loop: never forced
    p = hs.StreamParser(vocab=vocab, reasoning_budget=None, start_in_reasoning=True,
                        loop_guard=guard)
    forced_at = [i for i, t in enumerate(gens[0]) if p.feed_tokens(t).forced is not None]
    p.finish()
    assert forced_at == [at - 1]
    m = p.message
    assert m.loop_closed and [info(x) for x in m.loops] == [expected]
    assert m.reasoning == vocab.decode(scripts[0][:at]).decode()


CLOSE_QWEN = [198, 151668, 198]  # "\n</think>\n" in Qwen3


def test_loop_completed_by_finish_is_reported_not_closed(backend: Any) -> None:
    guard = hs.LoopGuard(min_repeats=3, max_period=4, min_span=6, on_loop="close")
    p = backend.StreamParser(loop_guard=guard, reasoning_budget=None)
    d = p.feed("<think>" + "<" * 6)
    assert d.reasoning == "<" * 5 and d.loop is None  # the last "<" is held: it could start </think>
    d = p.finish()  # releases it into reasoning: the sixth "<" meets the rule
    assert d.reasoning == "<" and info(d.loop) == (1, 6, 0, 6) and d.forced is None
    m = p.message
    assert m.loop_detected and not m.loop_closed and m.reasoning == "<" * 6
