"""Optional peer: the SGLang reasoning-budget processor's cost per engine step, next to SGLang's own
``Qwen3ThinkingBudgetLogitProcessor`` on the same batch (same process, same calling convention).

A step is what SGLang's sampler does once per decode step: one processor call on the batch's
logits with each row's ``custom_params`` (``__req__`` giving the output ids), after every row
appended one id. Rows are deep in reasoning (``PREFILL`` output ids already generated, budget
not reached), so neither processor touches the logits: this is the bookkeeping cost a row pays on
every step. Ours feeds one id to the row's native parser; SGLang's rebuilds prompt + output ids
and scans back for the open ``<think>`` (it grows with the sequence). Skips without sglang.
"""

from __future__ import annotations

import weakref
from array import array
from pathlib import Path
from typing import Any

import pytest

from harness import SMOKE, measure

pytestmark = pytest.mark.filterwarnings("ignore")

try:
    from sglang.srt.sampling.custom_logit_processor import Qwen3ThinkingBudgetLogitProcessor

    from hermes_stream.integrations import sglang_budget as sb
except ImportError as exc:
    pytest.skip(f"optional peer sglang not importable ({exc}); bench/peers/install.sh",
                allow_module_level=True)
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

QWEN3 = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "tokenizers" / "qwen3"
ROWS = (1, 64, 256)
PREFILL = 200 if SMOKE else 2_000  # output ids already generated when the timing starts
STEPS = 10 if SMOKE else 100  # engine steps per round


class _Req:
    def __init__(self, prompt: list[int], output: list[int], tokenizer: Any) -> None:
        self.origin_input_ids = array("q", prompt)
        self.output_ids = array("q", output)
        self.tokenizer = tokenizer


@pytest.fixture(scope="module")
def tok() -> Any:
    if not QWEN3.exists():
        pytest.skip(f"reference tokenizer absent ({QWEN3})")
    return transformers.AutoTokenizer.from_pretrained(str(QWEN3))


def _batch(tok: Any, n: int, ours: bool) -> tuple[list[_Req], list[dict[str, Any]], Any]:
    prompt = tok.encode("<|im_start|>system\nUse <think> </think> tags.<|im_end|>\n"
                        "<|im_start|>user\nThink hard.<|im_end|>\n<|im_start|>assistant\n")
    word = tok.encode(" word")[0]
    think = tok.convert_tokens_to_ids("<think>")
    reqs, params = [], []
    for _ in range(n):
        r = _Req(prompt, [think] + [word] * PREFILL, tok)
        p = {"reasoning_budget": 10**9} if ours else {"thinking_budget": 10**9}
        p["__req__"] = weakref.proxy(r)
        reqs.append(r)
        params.append(p)
    proc = sb.HermesReasoningBudgetLogitProcessor() if ours else Qwen3ThinkingBudgetLogitProcessor()
    proc(torch.zeros(n, 16), params)  # ours: build the rows and catch up (not timed)
    return reqs, params, proc


def _steps(reqs: list[_Req], params: list[dict[str, Any]], proc: Any, word: int) -> Any:
    logits = torch.zeros(len(reqs), 16)
    for _ in range(STEPS):
        for r in reqs:
            r.output_ids.append(word)
        logits = proc(logits, params)
    return logits


@pytest.mark.parametrize("who", ["hermes_stream", "sglang_qwen3_thinking_budget"])
@pytest.mark.parametrize("n_rows", ROWS)
def test_budget_processor_step(benchmark: Any, tok: Any, n_rows: int, who: str) -> None:
    word = tok.encode(" word")[0]
    ours = who == "hermes_stream"

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        return _batch(tok, n_rows, ours) + (word,), {}

    out = measure(benchmark, _steps, key=f"sglang_budget_{who}_{n_rows}", group=f"sglang-budget-{n_rows}rows",
                  n_units=STEPS, unit="step", kind="peer", setup=setup, rows=n_rows)
    assert torch.equal(out, torch.zeros(n_rows, 16))  # below the budget: logits untouched
