"""Loop guard (issue 15): false positives on natural text, and what the guard costs.

(a) ``test_false_positives_*``: every document of an offline corpus (license and documentation
    texts of installed Python packages and /usr/share/doc, plus generated reasoning-like traces
    with enumerations, counting, tables and repeated-but-varying lines) is parsed as one reasoning
    trace with the default ``hs.LoopGuard()``, in byte mode (``parse``) and token mode
    (``feed_tokens`` with the Qwen3 vocabulary). The number of reported loops must be 0. For the
    margin, the same corpus is also run with a guard 4x more eager (``min_repeats=4``, a quarter
    of the default spans); its hits are counted, not asserted.
(b) ``test_tokens_guard_*``: ``feed_tokens`` one id at a time on the 30K stream, with the guard
    (``on_loop="close"``) and without; the ratio is measured in this process (interleaved rounds,
    min of each) by ``test_tokens_guard_ratio``. Target: <= 1.3x.
(c) ``test_processor_*``: the transformers ``ReasoningBudgetProcessor`` per generation step at
    256 rows, with and without the guard (the processor called directly with growing
    ``input_ids`` views, as ``generate`` calls it).
(d) ``test_memory_bounded_with_guard``: the heap stays constant with the guard on a long stream.
"""

from __future__ import annotations

import functools
import gzip
import random
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import pytest

import hermes_stream as hs
from harness import RESULTS, SIZES, SMOKE, feed_all, feed_ids_all, measure, stream

QWEN3 = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "tokenizers" / "qwen3"
N = SIZES[1]
CORPUS_BYTES = 1_500_000 if SMOKE else 6_000_000  # natural text from installed files
PER_FILE = 200_000  # bytes taken from one file at most
EAGER = dict(min_repeats=4, max_period=None)  # spans: a quarter of the defaults (below)
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".gz", "")
TEXT_NAMES = ("LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS", "METADATA", "README",
              "copyright", "changelog", "NEWS", "CHANGES", "HISTORY")


# ----------------------------------------------------------------------------- the corpus
def _roots() -> list[Path]:
    roots = {Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["platlib"])}
    roots.update(Path(p) for p in sys.path if p.endswith("site-packages"))
    roots.add(Path("/usr/share/doc"))
    return sorted(r for r in roots if r.is_dir())


def _is_text_name(path: Path) -> bool:
    name = path.name
    stem = name[:-3] if name.endswith(".gz") else name
    return any(stem.upper().startswith(t.upper()) for t in TEXT_NAMES) or (
        path.suffix in (".md", ".rst") and "test" not in str(path).lower()
    )


def _read(path: Path) -> str | None:
    try:
        data = path.read_bytes()[: 4 * PER_FILE]
        if path.suffix == ".gz":
            data = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else b""
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    data = data[:PER_FILE]
    if not data or b"\x00" in data:
        return None
    text = data.decode("utf-8", "replace")
    return text.replace("<think>", "<thonk>").replace("</think>", "</thonk>")


@functools.lru_cache(maxsize=1)
def natural_corpus() -> tuple[list[str], list[str]]:
    """(texts, names): installed text files, deduplicated, sorted by path, up to CORPUS_BYTES."""
    texts: list[str] = []
    names: list[str] = []
    seen: set[int] = set()
    total = 0
    for root in _roots():
        for path in sorted(root.rglob("*")):
            if total >= CORPUS_BYTES:
                break
            if not path.is_file() or path.is_symlink() or not _is_text_name(path):
                continue
            text = _read(path)
            if text is None or len(text) < 200 or hash(text) in seen:
                continue
            seen.add(hash(text))
            texts.append(text)
            names.append(str(path))
            total += len(text.encode())
    return texts, names


def reasoning_like_traces(rng: random.Random) -> list[str]:
    """Traces a model writes that repeat a lot without looping: all vary somewhere."""
    out = []
    out.append("".join(f"Step {i}: compute {i} * {i} = {i * i}.\n" for i in range(1, 3000)))
    out.append(", ".join(str(i) for i in range(1, 20000)))
    out.append("Counting down: " + " ".join(str(i) for i in range(5000, 0, -1)))
    rows = ["| n | n^2 | n^3 | parity |", "|---|---|---|---|"]
    rows += [f"| {n} | {n * n} | {n ** 3} | {'even' if n % 2 == 0 else 'odd'} |"
             for n in range(1, 2000)]
    out.append("\n".join(rows))
    lines = []
    n = 27
    while n != 1 and len(lines) < 5000:
        nxt = n // 2 if n % 2 == 0 else 3 * n + 1
        lines.append(f"Check n = {n}: {'even' if n % 2 == 0 else 'odd'}, so next is {nxt}.")
        n = nxt
    out.append("\n".join(lines * 1))
    out.append("\n".join(f"{a} x {b} = {a * b}" for a in range(1, 60) for b in range(1, 60)))
    out.append("\n".join(f"{i:016b}" for i in range(4096)))
    words = ["Wait,", "let me", "re-check", "the", "sum:", "maybe", "I", "made", "an", "error",
             "in", "step", "carry", "the", "one", "again", "so", "it", "is"]
    out.append(" ".join(rng.choice(words) + (f" {rng.randrange(100)}" if rng.random() < 0.2
                                               else "") for _ in range(40000)))
    out.append("\n".join("=" * 80 + f"\nSection {i}\n" + "=" * 80 + "\n" + "- item\n" * 5
                         for i in range(300)))
    out.append("\n".join(f"Try x = {x}: f(x) = {x}^2 - 4 = {x * x - 4}; "
                         f"{'root' if x * x == 4 else 'not a root'}." for x in range(-3000, 3000)))
    return out


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[list[str], int, int]:
    texts, _ = natural_corpus()
    generated = reasoning_like_traces(random.Random(15))
    n_natural = sum(len(t.encode()) for t in texts)
    return texts + generated, n_natural, sum(len(t.encode()) for t in generated)


@functools.lru_cache(maxsize=1)
def _qwen3() -> tuple[Any, Any]:
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent: the token benchmarks need the Qwen3 tokenizer")
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer.from_file(str(QWEN3 / "tokenizer.json"))
    return tok, hs.Vocab.from_file(QWEN3 / "tokenizer.json")


@functools.lru_cache(maxsize=1)
def corpus_ids() -> list[list[int]]:
    tok, _ = _qwen3()
    texts, _, _ = corpus()
    return [e.ids for e in tok.encode_batch(texts, add_special_tokens=False)]


def eager_guard(unit: str) -> hs.LoopGuard:
    base = hs.LoopGuard()
    _, _, span = base.resolved(unit)
    return hs.LoopGuard(min_repeats=4, min_span=span // 4)


def _count_bytes(texts: list[str], guard: hs.LoopGuard) -> list[tuple[int, Any]]:
    hits = []
    for i, text in enumerate(texts):
        m = hs.parse(text, loop_guard=guard, reasoning_budget=None, start_in_reasoning=True)
        hits.extend((i, x) for x in m.loops)
    return hits


def _count_tokens(ids: list[list[int]], vocab: Any, guard: hs.LoopGuard) -> list[tuple[int, Any]]:
    hits = []
    for i, doc in enumerate(ids):
        p = hs.StreamParser(vocab=vocab, loop_guard=guard, reasoning_budget=None,
                            start_in_reasoning=True, keep_message=False)
        p.feed_tokens(doc)
        p.finish()
        hits.extend((i, x) for x in p._loops())
    return hits


def _describe(texts: list[str], hits: list[tuple[int, Any]]) -> list[str]:
    _, names = natural_corpus()
    out = []
    for i, x in hits[:10]:
        name = names[i] if i < len(names) else f"generated #{i - len(names)}"
        out.append(f"{name}: {x}")
    return out


# ----------------------------------------------------------------------------- (a)
def test_false_positives_bytes(benchmark: Any) -> None:
    texts, n_natural, n_generated = corpus()
    assert n_natural >= (1_000_000 if SMOKE else 5_000_000), (
        f"only {n_natural} bytes of offline natural text found under {_roots()}"
    )
    n_bytes = n_natural + n_generated
    hits = measure(benchmark, _count_bytes, key="loop_fp_bytes", group="loop_guard",
                   kind="bulk_slow", n_units=n_bytes, unit="byte",
                   setup=lambda: ((texts, hs.LoopGuard()), {}), n_docs=len(texts),
                   natural_bytes=n_natural, generated_bytes=n_generated)
    eager = _count_bytes(texts, eager_guard("bytes"))
    RESULTS["loop_fp_bytes"].update(false_positives=len(hits), eager_hits=len(eager))
    benchmark.extra_info.update(false_positives=len(hits), eager_hits=len(eager),
                                eager_examples=_describe(texts, eager))
    print(f"\nloop guard, bytes: {len(texts)} docs, {n_natural / 1e6:.2f} MB natural + "
          f"{n_generated / 1e6:.2f} MB generated; false positives {len(hits)}; "
          f"eager guard hits {len(eager)}: {_describe(texts, eager)[:3]}")
    assert hits == [], _describe(texts, hits)


def test_false_positives_tokens(benchmark: Any) -> None:
    _, vocab = _qwen3()
    texts, _, _ = corpus()
    ids = corpus_ids()
    n_tokens = sum(len(d) for d in ids)
    hits = measure(benchmark, _count_tokens, key="loop_fp_tokens", group="loop_guard",
                   kind="bulk_slow", n_units=n_tokens, unit="token",
                   setup=lambda: ((ids, vocab, hs.LoopGuard()), {}), n_docs=len(ids))
    eager = _count_tokens(ids, vocab, eager_guard("tokens"))
    RESULTS["loop_fp_tokens"].update(false_positives=len(hits), eager_hits=len(eager))
    benchmark.extra_info.update(false_positives=len(hits), eager_hits=len(eager),
                                eager_examples=_describe(texts, eager))
    print(f"\nloop guard, tokens: {len(ids)} docs, {n_tokens} tokens; false positives "
          f"{len(hits)}; eager guard hits {len(eager)}: {_describe(texts, eager)[:3]}")
    assert hits == [], _describe(texts, hits)


# ----------------------------------------------------------------------------- (b)
@functools.lru_cache(maxsize=1)
def _stream_ids() -> list[int]:
    tok, _ = _qwen3()
    return tok.encode(stream(N).text, add_special_tokens=False).ids




def _parser(guard: hs.LoopGuard | None) -> Any:
    _, vocab = _qwen3()
    return hs.StreamParser(vocab=vocab, reasoning_budget=None, loop_guard=guard)


GUARD_ON = hs.LoopGuard(on_loop="close")


@pytest.mark.parametrize("guard", [None, GUARD_ON], ids=["off", "on"])
def test_tokens_guard(benchmark: Any, guard: hs.LoopGuard | None) -> None:
    ids = _stream_ids()
    key = "tok_guard_on" if guard else "tok_guard_off"
    p = measure(benchmark, feed_ids_all, key=key, group="loop_guard", kind="fast",
                setup=lambda: ((_parser(guard), ids), {}), n_units=len(ids), unit="token")
    s = stream(N)
    assert (p.message.reasoning, p.message.content) == (s.reasoning, s.content)
    assert not p.message.loop_detected


def test_tokens_guard_ratio() -> None:
    """Guard on / off per token, interleaved rounds in this process (min of each)."""
    ids = _stream_ids()
    rounds = 3 if SMOKE else 25
    best = {"off": float("inf"), "on": float("inf")}
    for _ in range(rounds):
        for name, guard in (("off", None), ("on", GUARD_ON)):
            p = _parser(guard)
            t0 = time.perf_counter()
            feed_ids_all(p, ids)
            best[name] = min(best[name], time.perf_counter() - t0)
    ratio = best["on"] / best["off"]
    RESULTS["tok_guard_ratio"] = {"group": "loop_guard", "unit": "ratio", "n_units": len(ids),
                                  "rounds": rounds, "min_us": ratio, "median_us": ratio,
                                  "off_us": best["off"] / len(ids) * 1e6,
                                  "on_us": best["on"] / len(ids) * 1e6}
    print(f"\nfeed_tokens per token on the {N} stream: off {best['off'] / len(ids) * 1e9:.0f} ns, "
          f"guard on {best['on'] / len(ids) * 1e9:.0f} ns, ratio {ratio:.3f} (target <= 1.3)")


def test_text_guard_ratio() -> None:
    """Byte mode: ``feed(text)`` per delta on the 30K stream, guard on / off (informational)."""
    s = stream(N)
    rounds = 3 if SMOKE else 15
    best = {"off": float("inf"), "on": float("inf")}
    for _ in range(rounds):
        for name, guard in (("off", None), ("on", GUARD_ON)):
            p = hs.StreamParser(reasoning_budget=None, loop_guard=guard)
            tokens = s.fresh_tokens()
            t0 = time.perf_counter()
            feed_all(p, tokens)
            best[name] = min(best[name], time.perf_counter() - t0)
            assert p.message.reasoning == s.reasoning and not p.message.loop_detected
    n = len(s.fresh_tokens())
    ratio = best["on"] / best["off"]
    RESULTS["text_guard_ratio"] = {"group": "loop_guard", "unit": "ratio", "n_units": n,
                                   "rounds": rounds, "min_us": ratio, "median_us": ratio}
    print(f"\nfeed(text) per delta on the {N} stream: off {best['off'] / n * 1e9:.0f} ns, "
          f"guard on {best['on'] / n * 1e9:.0f} ns, ratio {ratio:.3f}")


# ----------------------------------------------------------------------------- (c)
ROWS = 256
STEPS = 20 if SMOKE else 200


def _processor_setup(guard: hs.LoopGuard | None) -> tuple[tuple[Any, ...], dict[str, Any]]:
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from hermes_stream.integrations.transformers import ReasoningBudgetProcessor

    _, vocab = _qwen3()
    ids = _stream_ids()
    prompt = 8
    rows = [[151667] * prompt + [ids[(r * 97 + k) % len(ids)] for k in range(STEPS + 1)]
            for r in range(ROWS)]
    full = torch.tensor(rows, dtype=torch.long)
    scores = torch.zeros((ROWS, 8))
    proc = ReasoningBudgetProcessor(vocab, 30_000, start_in_reasoning=True, loop_guard=guard)
    proc(full[:, :prompt], scores)  # the first call of a generation (not timed)
    return (proc, full, scores, prompt), {}


def _steps(proc: Any, full: Any, scores: Any, prompt: int) -> Any:
    for w in range(prompt + 1, prompt + STEPS + 1):
        proc(full[:, :w], scores)
    return proc


@pytest.mark.parametrize("guard", [None, GUARD_ON], ids=["off", "on"])
def test_processor_step_256_rows(benchmark: Any, guard: hs.LoopGuard | None) -> None:
    key = "proc_guard_on" if guard else "proc_guard_off"
    proc = measure(benchmark, _steps, key=key, group="loop_guard_processor", kind="slow",
                   setup=lambda: _processor_setup(guard), n_units=STEPS, unit="step", rows=ROWS)
    assert proc.forced_positions == [[]] * ROWS


# ----------------------------------------------------------------------------- memory
def test_memory_bounded_with_guard(benchmark: Any) -> None:
    """keep_message=False plus the guard: the malloc heap does not grow with the stream (same
    measure as test_memory.py: growth after a 10% warm-up, over the 120K-token stream)."""
    import test_memory as tm

    if tm.MALLINFO2 is None:
        pytest.skip("needs glibc >= 2.33 (mallinfo2) on Linux")
    s = stream(SIZES[-1])

    def run(tokens: list[str]) -> list[int]:
        import gc

        gc.collect()
        p = hs.StreamParser(reasoning_budget=None, keep_message=False, loop_guard=GUARD_ON)
        feed = p.feed
        step = max(len(tokens) // tm.CHECKPOINTS, 1)
        growth = []
        for start in range(0, len(tokens), step):
            for i in range(start, min(start + step, len(tokens))):
                piece, tokens[i] = tokens[i], ""
                feed(piece)
            if start == 0:
                heap0 = tm._heap_in_use()
            else:
                growth.append(tm._heap_in_use() - heap0)
        p.finish()
        assert not p.message.loop_detected
        return growth

    benchmark.group = "memory"
    growth = benchmark.pedantic(run, setup=lambda: ((s.fresh_tokens(),), {}), rounds=1,
                                iterations=1)
    benchmark.extra_info.update(key="memory_guard_nokeep", heap_growth_max=max(growth))
    assert max(growth) <= tm.HEAP_BOUND, growth


# ----------------------------------------------------------------------------- adversarial
def _fibonacci_word(n: int) -> str:
    a, b = "a", "ab"
    while len(b) < n:
        a, b = b, b + a
    return b[:n]


def test_adversarial_cost() -> None:
    """Square-rich text (many candidate periods at once): guard cost per byte, informational."""
    n = 100_000 if SMOKE else 1_000_000
    rng = random.Random(2)
    cases = {
        "random_letters": "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(n)),
        "fibonacci_word": _fibonacci_word(n),
        "a^k_b_k<1500": "".join("a" * k + "b" for k in range(1, 1500))[:n],
        "(ab)^k_c": "".join("ab" * (k % 700 + 1) + "c" for k in range(1, 20000))[:n],
    }
    for name, text in cases.items():
        best = {}
        for label, guard in (("off", None), ("on", hs.LoopGuard())):
            t0 = time.perf_counter()
            m = hs.parse("<think>" + text, loop_guard=guard, reasoning_budget=None)
            best[label] = (time.perf_counter() - t0) / len(text) * 1e9
            assert not m.loops  # none of them ends in 2048 bytes of one period
        RESULTS[f"loop_adversarial_{name}"] = {
            "group": "loop_guard", "unit": "byte", "n_units": len(text), "rounds": 1,
            "min_us": best["on"] / 1e3, "median_us": best["on"] / 1e3}
        print(f"\n{name}: parse off {best['off']:.1f} ns/byte, guard on {best['on']:.1f} ns/byte")
