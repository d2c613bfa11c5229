"""vLLM reasoning budget (issue 10): the cost of one engine step of hermes_stream's
``ReasoningBudgetLogitsProcessor`` (``update_state`` + ``apply`` on a CPU logits tensor of the
Qwen3 vocabulary width) against vLLM's built-in ``ThinkingBudgetStateHolder`` (``update_state`` +
``apply_to_logits``, what ``thinking_token_budget`` runs) on the same batch: 1, 64 and 256 rows,
every row budgeted and inside reasoning (the counting steady state; no row is forced). The body
of both appends one generated id per row to vLLM's live output lists first, as the engine does.
The ratio is printed by ``test_ratio`` (same session, same machine).

Skipped where vLLM is absent (``bench/peers/install.sh`` installs it).
"""

from __future__ import annotations

import random
import types
import warnings
from pathlib import Path
from typing import Any

import pytest

from harness import RESULTS, SMOKE, measure

pytest.importorskip("vllm", reason="optional vllm not installed (bench/peers/install.sh)",
                    exc_type=ImportError)
torch = pytest.importorskip("torch")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        from vllm import SamplingParams
        from vllm.v1.sample.logits_processor import BatchUpdateBuilder
        from vllm.v1.sample.thinking_budget_state import ThinkingBudgetStateHolder

        from hermes_stream.integrations.vllm_budget import (
            BUDGET_ENV,
            ReasoningBudgetLogitsProcessor,
        )
    except ImportError as exc:
        pytest.skip(f"vllm's logits-processor modules do not import ({exc})",
                    allow_module_level=True)

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")

QWEN3 = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "tokenizers" / "qwen3"
ROWS = (1, 64, 256)
STEPS = 20 if SMOKE else 200
BUDGET = 30_000
N_LOGITS = 151936
THINK, END_THINK = 151667, 151668


@pytest.fixture(scope="module")
def vocab() -> hs.Vocab:
    if not (QWEN3 / "tokenizer.json").is_file():
        pytest.skip(f"{QWEN3} is absent")
    return hs.Vocab.from_file(QWEN3 / "tokenizer.json")


_LOGITS: dict[int, Any] = {}
_TOKENS: dict[int, list[list[int]]] = {}


def logits(rows: int) -> Any:
    if rows not in _LOGITS:
        _LOGITS[rows] = torch.zeros((rows, N_LOGITS))
    return _LOGITS[rows]


def tokens(rows: int) -> list[list[int]]:
    """Per step, one ordinary (non-tag) Qwen3 id per row."""
    if rows not in _TOKENS:
        rng = random.Random(rows)
        _TOKENS[rows] = [[rng.randrange(300, 150_000) for _ in range(rows)] for _ in range(STEPS)]
    return _TOKENS[rows]


def _added(rows: int, params: Any) -> tuple[list[Any], list[list[int]]]:
    outputs = [[THINK] for _ in range(rows)]
    prompt = [151644, 77091, 198]  # <|im_start|>assistant\n
    return [(i, params, prompt, outputs[i]) for i in range(rows)], outputs


def _hermes_setup(rows: int, vocab: hs.Vocab) -> Any:
    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(BUDGET_ENV, "off")
            proc = ReasoningBudgetLogitsProcessor(None, torch.device("cpu"), False)  # type: ignore[arg-type]
        proc.set_vocab(vocab, {"<|im_start|>": 151644, "<|im_end|>": 151645})
        added, outputs = _added(rows, SamplingParams(extra_args={"reasoning_budget": BUDGET}))
        proc.update_state(BatchUpdateBuilder(added=added).get_and_reset(rows))
        return (proc, outputs, tokens(rows), logits(rows)), {}
    return setup


def _hermes_run(proc: Any, outputs: list[list[int]], steps: list[list[int]], x: Any) -> Any:
    update, apply = proc.update_state, proc.apply
    for step in steps:
        for out, tid in zip(outputs, step):
            out.append(tid)
        update(None)
        apply(x)
    return proc


def _vllm_setup(rows: int) -> Any:
    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        config = types.SimpleNamespace(reasoning_start_token_ids=[THINK],
                                       reasoning_end_token_ids=[END_THINK])
        holder = ThinkingBudgetStateHolder(config, rows, 0, torch.device("cpu"), False)  # type: ignore[arg-type]
        added, outputs = _added(rows, SamplingParams(thinking_token_budget=BUDGET))
        holder.sync_batch(BatchUpdateBuilder(added=added).get_and_reset(rows))
        return (holder, outputs, tokens(rows), logits(rows)), {}
    return setup


def _vllm_run(holder: Any, outputs: list[list[int]], steps: list[list[int]], x: Any) -> Any:
    update, apply = holder.update_state, holder.apply_to_logits
    for step in steps:
        for out, tid in zip(outputs, step):
            out.append(tid)
        update(outputs, None)
        apply(x, False, None)
    return holder


@pytest.mark.parametrize("rows", ROWS)
def test_hermes_processor(benchmark: Any, vocab: hs.Vocab, rows: int) -> None:
    proc = measure(benchmark, _hermes_run, key=f"vllm_budget_hermes@{rows}", group="vllm_budget",
                   kind="fast", setup=_hermes_setup(rows, vocab), n_units=STEPS, unit="step",
                   rows=rows)
    state = proc.row_state(rows - 1)
    assert state["reasoning_tokens"] == STEPS and not state["budget_exceeded"]
    assert torch.count_nonzero(logits(rows)) == 0  # nothing forced, nothing written


@pytest.mark.parametrize("rows", ROWS)
def test_vllm_thinking_budget_holder(benchmark: Any, rows: int) -> None:
    holder = measure(benchmark, _vllm_run, key=f"vllm_budget_builtin@{rows}", group="vllm_budget",
                     kind="fast", setup=_vllm_setup(rows), n_units=STEPS, unit="step", rows=rows)
    state = holder._state[rows - 1]
    assert state["check_count_down"] == BUDGET - STEPS and not state["in_end"]  # counted all
    assert torch.count_nonzero(logits(rows)) == 0


def test_ratio(request: Any) -> None:
    """hermes_stream / vLLM built-in, per engine step, min over rounds (same session)."""
    lines = []
    for rows in ROWS:
        ours, theirs = RESULTS.get(f"vllm_budget_hermes@{rows}"), RESULTS.get(f"vllm_budget_builtin@{rows}")
        if ours is None or theirs is None:
            pytest.skip("run with the two benchmarks above (not --benchmark-disable)")
        lines.append(f"{rows:>4} rows: hermes_stream {ours['min_us']:9.1f} us/step, "
                     f"vLLM ThinkingBudgetStateHolder {theirs['min_us']:9.1f} us/step, "
                     f"ratio {ours['min_us'] / theirs['min_us']:.2f}")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line("")
            reporter.write_line("vLLM reasoning budget, cost per engine step:")
            for line in lines:
                reporter.write_line("  " + line)
