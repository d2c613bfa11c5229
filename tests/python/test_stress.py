"""Stress suite for the native glue (issue 11): threads, re-entrancy, hostile objects.

One named test per confirmed case of issue 11 (``test_case01_...`` .. ``test_case10_...``), on
both backends where the API exists (``BatchParser`` and ``hs.render``'s native path are native
only). Racy cases are repeated; every thread is joined with a timeout (the deadlock detector), and
faulthandler dumps all stacks and exits if a test hangs. The same file runs against the ASan+UBSan
build of the extension in CI (tools/run_asan_python.sh).

Contract under test (README "Threading and re-entrancy"): a parser (or a BatchParser) serves one
call at a time; a concurrent or re-entrant call raises RuntimeError; nothing the glue reads can be
freed or changed under it; no consumed input is ever unreachable.
"""

from __future__ import annotations

import array
import copy
import faulthandler
import gc
import os
import pickle
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import hermes_stream as hs
from hermes_stream import _core

IN_USE = "in use"
CALL = '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
JOIN_TIMEOUT = 30.0
# Repetitions of each racy case (more under the ASan build via HERMES_STRESS_REPEAT).
REPEAT = int(os.environ.get("HERMES_STRESS_REPEAT", "60"))


@pytest.fixture(autouse=True)
def _deadlock_detector() -> Iterator[None]:
    faulthandler.dump_traceback_later(120, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def run_threads(*targets: Callable[[], None]) -> list[BaseException]:
    """Run each target on its own thread; join with a timeout; return what they raised."""
    errors: list[BaseException] = []

    def wrap(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # reported to the test
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_TIMEOUT)
        assert not t.is_alive(), "a thread did not finish: deadlock?"
    return errors


def texts(d: Any) -> tuple[str, str]:
    return d.reasoning, d.content


def fresh(s: str) -> str:
    """A str object of its own (not interned or shared), so freeing it early would show."""
    return "".join(list(s))


def yielding_factory(i: int) -> str:
    time.sleep(0)  # let other threads run while the GIL is re-acquired mid-parse
    return f"call_{i}"


@pytest.fixture
def switch_often() -> Iterator[None]:
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


# ----------------------------------------------------------------------------------------- 1
def test_case01_concurrent_feed_many_on_one_batch(switch_often: None) -> None:
    """Two threads feeding one BatchParser (and, below the facade's lock, one streams dict):
    each call either runs alone or raises RuntimeError; nothing races, nothing is lost."""
    batch = hs.BatchParser(id_factory=yielding_factory, reasoning_budget=None)
    sids = list(range(8))
    for sid in sids:
        batch.add(sid)
    got: dict[int, list[str]] = {sid: [] for sid in sids}
    refused = [0, 0]

    def worker(k: int, direct: bool) -> Callable[[], None]:
        def run() -> None:
            for n in range(REPEAT):
                items = [(sid, fresh(f"<{k}.{n}>{CALL}")) for sid in sids]
                try:
                    if direct:  # the per-parser leases, without BatchParser's lock
                        out = _core.feed_many(batch._streams, items)
                    else:
                        out = batch.feed_many(items)
                except RuntimeError as exc:
                    assert IN_USE in str(exc)
                    refused[k] += 1
                    time.sleep(0)
                    continue
                for sid in sids:
                    got[sid].append(out[sid].content)
                time.sleep(0)  # an idle window for the other thread

        return run

    for direct in (False, True):
        assert run_threads(worker(0, direct), worker(1, direct)) == []
    assert sum(refused) > 0  # the threads did overlap
    for sid in sids:
        m = batch.message(sid)
        # Every consumed delta was returned (appending to `got` is not atomic with the call, so
        # compare the pieces, not their order).
        assert sorted(re.findall(r"<\d+\.\d+>", m.content)) == sorted(got[sid])
        assert len(m.content) == sum(map(len, got[sid]))
        assert len(m.tool_calls) == len(got[sid])
        assert all(c.error is None for c in m.tool_calls)


# ----------------------------------------------------------------------------------------- 2
def test_case02_feed_many_does_not_read_items_after_python_code_ran(switch_often: None) -> None:
    """Once parsing starts, the id_factory and another thread clear the caller's items list and
    its token-id list (dropping the last references to the payloads): the parse uses its own
    copies, so every stream still gets exactly its own text."""
    for _ in range(REPEAT):
        items: list[tuple[int, Any]] = []
        ids = [VOCAB_IDS["A"]] * 50
        started = threading.Event()

        def clearing_factory(i: int) -> str:
            items.clear()
            ids.clear()
            started.set()
            gc.collect(0)
            time.sleep(0)
            return f"call_{i}"

        batch = hs.BatchParser(reasoning_budget=None)
        for sid in range(6):
            batch.add(sid, id_factory=clearing_factory, vocab=VOCAB if sid == 5 else None)
        expected = {sid: fresh(f"text {sid} " * 20) for sid in range(5)}
        items.extend((sid, fresh(CALL) + expected[sid]) for sid in range(5))
        items.append((5, ids))
        stop = threading.Event()

        def clearer() -> None:
            started.wait(JOIN_TIMEOUT)
            while not stop.is_set():
                items.clear()
                time.sleep(0)

        t = threading.Thread(target=clearer)
        t.start()
        try:
            out = batch.feed_many(items)
        finally:
            stop.set()
            started.set()
            t.join(JOIN_TIMEOUT)
        assert not items
        for sid in range(5):
            assert out[sid].content == expected[sid]
            assert out[sid].tool_calls[0].name == "f"
        assert out[5].content == "A" * 50


# ----------------------------------------------------------------------------------------- 3
class HostileId:
    """A stream id whose __eq__ (run by the dict lookup) mutates the items and the streams."""

    def __init__(self, name: str, victims: Callable[[], None]) -> None:
        self.name = name
        self.victims = victims

    def __hash__(self) -> int:
        return 42

    def __eq__(self, other: object) -> bool:
        self.victims()
        gc.collect(0)
        return isinstance(other, HostileId) and other.name == self.name

    def __repr__(self) -> str:
        return f"HostileId({self.name!r})"


def test_case03_hostile_eq_in_feed_many() -> None:
    for _ in range(REPEAT):
        streams: dict[Any, Any] = {}
        items: list[tuple[Any, Any]] = []

        def victims() -> None:
            items.clear()
            for k in [k for k in streams if isinstance(k, str)]:
                del streams[k]  # drop the plain streams: their parsers must stay alive

        a, b = HostileId("a", victims), HostileId("b", victims)
        for sid in (a, b, "x", "y"):
            streams[sid] = hs.StreamParser(reasoning_budget=None)
        items.extend([("x", fresh("x" * 30)), ("y", fresh("y" * 30)), (a, fresh("aaa")),
                      (b, fresh("bbb"))])
        out = _core.feed_many(streams, items)
        assert {k: v.content for k, v in out.items()} == {
            "x": "x" * 30, a: "aaa", "y": "y" * 30, b: "bbb"}


def test_case03_hostile_key_in_render() -> None:
    """A message-dict key with hash("role") whose __eq__ clears the messages: the native path
    refuses non-str keys (the Python path renders it), so nothing is read after it ran."""

    class Key:
        def __init__(self, messages: list[Any]) -> None:
            self.messages = messages

        def __hash__(self) -> int:
            return hash("role")

        def __eq__(self, other: object) -> bool:
            self.messages.clear()
            gc.collect(0)
            return False

    for _ in range(REPEAT):
        messages: list[Any] = []
        msg: dict[Any, Any] = {}
        msg[Key(messages)] = "x"
        msg["role"] = "user"
        msg["content"] = fresh("hello " * 10)
        messages.extend([msg, {"role": "assistant", "content": fresh("hi " * 10)}])
        try:
            got = hs.render(messages)
        except Exception as exc:  # a clean Python error is fine; a crash or a hang is not
            assert not isinstance(exc, SystemError), exc
        else:
            assert isinstance(got, str)
    # A (harmless) non-str key takes the same Python path: identical to the reference.
    convo = [{"role": "user", "content": "hi", 1: "x"}, {"role": "assistant", "content": "yo"}]
    assert hs.render(convo) == hs.reference.render(convo)


# ----------------------------------------------------------------------------------------- 4
def test_case04_init_on_a_running_parser(backend: Any) -> None:
    seen: list[str] = []

    def factory(i: int) -> str:
        try:
            p.__init__()
        except RuntimeError as exc:
            seen.append(str(exc))
        return f"call_{i}"

    p = backend.StreamParser(id_factory=factory)
    d = p.feed(CALL + "after")
    assert d.tool_calls[0].id == "call_0" and d.content == "after"
    assert len(seen) == 1 and "__init__() called while the parser is in use" in seen[0]
    p.__init__()  # fine when idle: a fresh parser
    assert p.feed("<think>x").reasoning == "x"


def test_case04_init_from_another_thread_during_feed_many(switch_often: None) -> None:
    batch = hs.BatchParser(id_factory=yielding_factory, reasoning_budget=None)
    for sid in range(4):
        batch.add(sid)
    parsers = [batch.parser(sid) for sid in range(4)]
    stop = threading.Event()
    outcomes = {"refused": 0, "done": 0}

    def reinit() -> None:
        while not stop.is_set():
            for p in parsers:
                try:
                    type(p).__init__(p, reasoning_budget=None, id_factory=yielding_factory)
                    outcomes["done"] += 1
                except RuntimeError as exc:
                    assert "in use" in str(exc)
                    outcomes["refused"] += 1

    def feeder() -> None:
        try:
            for _ in range(REPEAT):
                try:
                    out = batch.feed_many([(sid, fresh(CALL + "tail")) for sid in range(4)])
                except RuntimeError as exc:  # a re-initialised parser may be finished
                    assert "in use" in str(exc) or "finished" in str(exc)
                    continue
                for d in out.values():
                    assert d.content == "tail" and d.tool_calls[0].name == "f"
        finally:
            stop.set()

    assert run_threads(feeder, reinit) == []


# ----------------------------------------------------------------------------------------- 5
def test_case05_feed_many_never_returns_another_calls_delta() -> None:
    """Stream "b"'s id_factory runs while "a" is already parsed; another thread then tries to
    feed "a": it is refused, and the call returns "a"'s own delta."""
    batch = hs.BatchParser(reasoning_budget=None)
    other: list[Any] = []

    def factory(i: int) -> str:
        def intruder() -> None:
            try:
                other.append(batch.parser("a").feed("INTRUDER"))
            except RuntimeError as exc:
                other.append(exc)

        t = threading.Thread(target=intruder)
        t.start()
        t.join(JOIN_TIMEOUT)
        return f"call_{i}"

    batch.add("a")
    batch.add("b", id_factory=factory)
    for n in range(REPEAT):
        out = batch.feed_many([("a", f"own text {n}"), ("b", CALL)])
        assert out["a"].content == f"own text {n}"
        assert isinstance(other[-1], RuntimeError) and IN_USE in str(other[-1])
    assert batch.message("a").content == "".join(f"own text {n}" for n in range(REPEAT))


# ----------------------------------------------------------------------------------------- 6
VOCAB = hs.Vocab.from_pieces([b"<think>", b"</think>", b"A", b"B", b"a"])
VOCAB_IDS = {"A": 2, "B": 3, "a": 4}


def test_case06_feed_tokens_generator_feeding_another_parser(backend: Any) -> None:
    for _ in range(REPEAT):
        p1 = backend.StreamParser(vocab=VOCAB, reasoning_budget=None)
        p2 = backend.StreamParser(vocab=VOCAB, reasoning_budget=None)

        def ids() -> Iterator[int]:
            yield from [VOCAB_IDS["A"]] * 4
            assert p2.feed_tokens([VOCAB_IDS["B"]] * 4).content == "BBBB"
            yield from [VOCAB_IDS["a"]] * 2

        assert p1.feed_tokens(ids()).content == "AAAAaa"
        assert p2.message.content == "BBBB"


def test_case06_feed_tokens_generator_feeding_the_same_parser(backend: Any) -> None:
    p = backend.StreamParser(vocab=VOCAB, reasoning_budget=None)

    def ids() -> Iterator[int]:
        yield VOCAB_IDS["A"]
        p.feed_tokens(VOCAB_IDS["B"])

    with pytest.raises(RuntimeError, match=IN_USE):
        p.feed_tokens(ids())
    assert p.feed_tokens([VOCAB_IDS["a"]]).content == "a"  # nothing was consumed, still usable


# ----------------------------------------------------------------------------------------- 7
def test_case07_id_factory_raising_in_feed_many() -> None:
    def bad(i: int) -> str:
        raise ValueError("no ids today")

    for _ in range(REPEAT):
        batch = hs.BatchParser(reasoning_budget=None, id_factory=lambda i: f"call_{i}")
        batch.add("s0")
        batch.add("s1", id_factory=bad)
        batch.add("s2")
        single = hs.StreamParser(reasoning_budget=None, id_factory=lambda i: f"call_{i}")
        expected = single.feed(CALL + "tail")
        with pytest.raises(ValueError, match="no ids today") as info:
            batch.feed_many([("s0", CALL + "tail"), ("s1", CALL), ("s2", CALL + "tail")])
        deltas = dict(info.value.deltas)  # type: ignore[attr-defined]
        errors = dict(info.value.errors)  # type: ignore[attr-defined]
        assert sorted(deltas) == ["s0", "s2"] and list(errors) == ["s1"]
        assert errors["s1"] is info.value
        for sid in ("s0", "s2"):
            assert deltas[sid] == expected
            assert batch.message(sid).content == "tail"
        with pytest.raises(RuntimeError, match="after id_factory raised"):
            batch.parser("s1").feed("x")
        batch.drop("s1")
        assert batch.feed_many([("s0", "x"), ("s2", "y")])["s2"].content == "y"


def test_case07_hash_raising_while_the_result_is_built() -> None:
    """A stream id whose __hash__ works for the lookup and raises later: the exception still
    carries every stream's delta."""

    class Flaky:
        def __init__(self) -> None:
            self.calls = 0

        def __hash__(self) -> int:
            self.calls += 1
            if self.calls > 2:  # 1: the streams dict, 2: the lookup
                raise LookupError("hash changed its mind")
            return 7

    sid = Flaky()
    streams = {"a": hs.StreamParser(), sid: hs.StreamParser()}
    with pytest.raises(LookupError) as info:
        _core.feed_many(streams, [("a", "one"), (sid, "two")])
    assert [(k, d.content) for k, d in info.value.deltas] == [  # type: ignore[attr-defined]
        ("a", "one"), (sid, "two")]
    assert info.value.errors == []  # type: ignore[attr-defined]


def test_case07_single_parser_id_factory_raising(backend: Any) -> None:
    def bad(i: int) -> str:
        raise KeyError("boom")

    p = backend.StreamParser(id_factory=bad)
    with pytest.raises(KeyError):
        p.feed(CALL)
    with pytest.raises(RuntimeError, match="after id_factory raised"):
        p.feed("x")


# ----------------------------------------------------------------------------------------- 8
class Owner:
    def __init__(self, backend: Any) -> None:
        self.parser = backend.StreamParser(id_factory=self.make_id)

    def make_id(self, i: int) -> str:
        return f"call_{i}"


def test_case08_parser_holding_its_owner_is_collected(backend: Any) -> None:
    refs = []
    for _ in range(2000):
        o = Owner(backend)
        o.parser.feed(CALL)
        refs.append(weakref.ref(o))
        del o
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_case08_no_cycle_through_a_delta(backend: Any) -> None:
    """The native Delta is not a GC type, so it holds nothing a caller can reach: `forced` is a
    private copy (a new one per access), tool calls are native ToolCallDeltas, and the
    constructor converts or rejects anything else. The reference Delta is an ordinary (GC)
    class: a cycle through it is collected."""

    class Node:
        pass

    refs = []
    if backend.name == "native":
        with pytest.raises(TypeError, match="token_ids"):
            hs.Delta(forced=hs.ForcedClose("x", [Node()]))  # type: ignore[list-item]
        with pytest.raises(TypeError, match="ToolCallDelta"):
            hs.Delta(tool_calls=[Node()])
        converted = hs.Delta(tool_calls=[hs.reference.ToolCallDelta(0, "id", "f", "{}")])
        assert type(converted.tool_calls[0]) is hs.ToolCallDelta
        for _ in range(500):
            n1 = Node()
            d = hs.Delta(forced=hs.ForcedClose("x", [1, 2]))
            d.forced.token_ids.append(n1)  # a copy: the Delta is unchanged
            assert d.forced == hs.ForcedClose("x", [1, 2]) and d.forced is not d.forced
            n1.delta = d
            refs.append(weakref.ref(n1))
            del n1, d
    else:
        for _ in range(500):
            n1, n2 = Node(), Node()
            via_forced = hs.reference.Delta(forced=hs.ForcedClose("x", [n1]))
            n1.delta = via_forced
            via_calls = hs.reference.Delta(tool_calls=[n2])
            n2.delta = via_calls
            refs += [weakref.ref(n1), weakref.ref(n2)]
            del n1, n2, via_forced, via_calls
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


def test_case08_parser_made_delta_with_forced_close_is_collectable() -> None:
    vocab = hs.Vocab.from_pieces([b"<think>", b"</think>", b"a", b"\n"])
    p = hs.StreamParser(vocab=vocab, reasoning_budget=1, budget_close_text="\n</think>\n")
    d = p.feed_tokens([0, 2, 2])
    assert d.forced is not None and d.forced.token_ids
    marker = type("M", (), {})()
    d.forced.token_ids.append(marker)
    marker.d = d
    ref = weakref.ref(marker)
    del d, marker
    gc.collect()
    assert ref() is None


# ----------------------------------------------------------------------------------------- 9
def test_case09_reasoning_tokens_saturate(backend: Any) -> None:
    top = 2**63 - 1
    p = backend.StreamParser(reasoning_budget=None, start_in_reasoning=True)
    p.feed("a", top)
    p.feed("b", top)
    p.feed_bytes(b"c", 5)
    assert p.reasoning_tokens == top
    with pytest.raises(ValueError, match=r"n_tokens must be < 2\*\*63"):
        p.feed("d", 2**63)
    with pytest.raises(ValueError, match="n_tokens must be >= 0"):
        p.feed("d", -(2**70))
    assert p.feed("e").reasoning == "e"
    q = backend.StreamParser(reasoning_budget=2**62 - 1, start_in_reasoning=True)
    d = q.feed("x", top)
    assert d.forced is not None and q.budget_exceeded and q.reasoning_tokens == top
    assert backend.parse("<think>x", n_tokens=top, reasoning_budget=None).reasoning_tokens == 0


# ----------------------------------------------------------------------------------------- 10
def test_case10_lone_surrogates_in_options_and_ids(backend: Any) -> None:
    with pytest.raises(ValueError, match="budget_close_text is not valid UTF-8"):
        backend.StreamParser(budget_close_text="\ud800")
    tools = [{"type": "function", "function": {"name": "f\udc80", "parameters": {}}}]
    with pytest.raises(ValueError, match="tool name is not valid UTF-8"):
        backend.StreamParser(tools=tools)
    p = backend.StreamParser(id_factory=lambda i: "id\udfff")
    with pytest.raises(ValueError, match="id_factory returned a str that is not valid UTF-8"):
        p.feed(CALL)
    with pytest.raises(RuntimeError, match="after id_factory raised"):
        p.feed("x")
    q = backend.StreamParser(id_factory=lambda i: 7)
    with pytest.raises(TypeError, match="id_factory must return a str, got int"):
        q.feed(CALL)
    # Model output with lone surrogates never raises (they become U+FFFD).
    assert backend.StreamParser().feed("a\ud800b").content == "a\ufffd\ufffd\ufffdb"


def test_case10_pickle_and_copy(backend: Any) -> None:
    p = backend.StreamParser(reasoning_budget=1, id_factory=lambda i: f"call_{i}")
    d = p.feed(CALL)
    d2 = p.feed("<think>a b c")
    for delta in (d, d2, d.tool_calls[0]):
        for clone in (pickle.loads(pickle.dumps(delta)), copy.copy(delta), copy.deepcopy(delta)):
            assert type(clone) is type(delta)
            assert clone == delta
    assert pickle.loads(pickle.dumps(d)).tool_calls[0].name == "f"
    for how in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError, match="cannot pickle or copy a StreamParser"):
            how(p)


def test_case10_pickle_batch_refused() -> None:
    with pytest.raises(TypeError, match="cannot pickle or copy a BatchParser"):
        pickle.dumps(hs.BatchParser())


def test_case10_feed_bytes_buffer_types(backend: Any) -> None:
    raw = b"<think>abc</think>xyz\xe2\x82\xac"
    for data in (bytearray(raw), memoryview(raw), memoryview(raw)[::2],
                 memoryview(bytearray(raw))[1::3], memoryview(array.array("i", [1, 2, 3]))):
        expected = backend.StreamParser().feed_bytes(bytes(data))
        assert backend.StreamParser().feed_bytes(data) == expected
        assert backend.parse(data).content == backend.parse(bytes(data)).content
    for bad in (array.array("i", [1, 2]), "text", 5):
        with pytest.raises(TypeError, match="feed_bytes"):
            backend.StreamParser().feed_bytes(bad)


def test_case10_reentrant_use_reports_in_use(backend: Any) -> None:
    seen: list[str] = []

    def factory(i: int) -> str:
        for call in (lambda: p.feed("x"), lambda: p.finish(), lambda: p.message,
                     lambda: p.reasoning_tokens, lambda: p.feed_bytes(b"x")):
            try:
                call()
            except RuntimeError as exc:
                seen.append(str(exc))
        return f"call_{i}"

    p = backend.StreamParser(id_factory=factory)
    assert p.feed(CALL).tool_calls[0].id == "call_0"
    assert len(seen) == 5 and all(IN_USE in s and "id_factory raised" not in s for s in seen)
    assert p.finish() is not None and p.message.tool_calls[0].id == "call_0"


# ----------------------------------------------------------------------------------------- more
def test_threads_on_distinct_parsers_agree_with_single_thread(backend: Any,
                                                              switch_often: None) -> None:
    """Distinct parsers on distinct threads are independent (the contract's other half)."""
    chunks = [fresh(c) for c in ("<think>", "re", "ason</th", "ink>", CALL[:9], CALL[9:], "end")]
    ref = backend.StreamParser(id_factory=lambda i: f"call_{i}")
    expected = [texts(ref.feed(c)) for c in chunks] + [texts(ref.finish())]
    results: list[list[tuple[str, str]]] = []

    def worker() -> None:
        for _ in range(REPEAT):
            p = backend.StreamParser(id_factory=yielding_factory)
            results.append([texts(p.feed(c)) for c in chunks] + [texts(p.finish())])

    assert run_threads(*[worker] * 4) == []
    assert len(results) == 4 * REPEAT and all(r == expected for r in results)


def test_single_parser_shared_by_threads(backend: Any, switch_often: None) -> None:
    """One parser fed from four threads: each feed runs alone or raises RuntimeError; the
    message is exactly the accepted deltas."""
    p = backend.StreamParser(reasoning_budget=None, id_factory=yielding_factory)
    accepted: list[str] = []

    def worker(k: int) -> Callable[[], None]:
        def run() -> None:
            for n in range(REPEAT * 5):
                piece = fresh(f"[{k}.{n}]") + (CALL if n % 7 == 0 else "")
                try:
                    d = p.feed(piece)
                except RuntimeError as exc:
                    assert IN_USE in str(exc)
                    continue
                accepted.append(d.content)
                try:
                    _ = p.message  # reading while others feed: refused or consistent
                except RuntimeError as exc:
                    assert IN_USE in str(exc)

        return run

    assert run_threads(*[worker(k) for k in range(4)]) == []
    p.finish()
    # Appending to `accepted` is not atomic with the feed: compare the pieces, not their order.
    content = p.message.content
    assert sorted(re.findall(r"\[\d+\.\d+\]", content)) == sorted(accepted)
    assert len(content) == sum(map(len, accepted))
