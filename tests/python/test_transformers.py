"""transformers integration: ReasoningBudgetProcessor and DeltaStreamer on a tiny random Qwen3.

The model is built locally from a config (random weights, fixed seed; nothing is downloaded) with
the real Qwen3 tokenizer from ../shared/reference. A random model never closes its thinking, so
every forced close is the processor's; a second processor steers the model where a test needs a
natural `</think>` or an end of turn.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

# Optional integration dependencies (CPU torch is large): .ci/run installs them before the test
# command; on a machine without them this module is skipped with this reason.
torch = pytest.importorskip(
    "torch", reason="integration test: needs `pip install torch==2.13.0 transformers` (see README)"
)
transformers = pytest.importorskip("transformers", reason="integration test: needs transformers")
from transformers import AutoTokenizer, LogitsProcessor, Qwen3Config, Qwen3ForCausalLM

import hermes_stream as hs
from hermes_stream.integrations.transformers import DeltaStreamer, ReasoningBudgetProcessor

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
QWEN3 = REFERENCE / "tokenizers" / "qwen3"
THINK, END_THINK, IM_END, ENDOFTEXT = 151667, 151668, 151645, 151643
CLOSE_IDS = [198, END_THINK, 198]  # "\n</think>\n"
PROMPTS = [
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n",
    "<|im_start|>system\nYou are a careful assistant. Think step by step.<|im_end|>\n"
    "<|im_start|>user\nName three primes and explain why.<|im_end|>\n"
    "<|im_start|>assistant\n<think>\n",
]


@pytest.fixture(scope="module")
def tok() -> Any:
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent: the transformers tests need ../shared/reference")
    t = AutoTokenizer.from_pretrained(str(QWEN3))
    t.padding_side = "left"
    return t


@pytest.fixture(scope="module")
def vocab(tok: Any) -> hs.Vocab:
    return hs.Vocab.from_tokenizer(tok)


@pytest.fixture(scope="module")
def model(tok: Any) -> Any:
    torch.manual_seed(0)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=8,
        max_position_embeddings=512,
        tie_word_embeddings=False,  # tied, a tiny random model just repeats its last input id
        eos_token_id=[IM_END, ENDOFTEXT],
        pad_token_id=ENDOFTEXT,
    )
    return Qwen3ForCausalLM(config).eval()


def _generate(model: Any, tok: Any, prompts: list[str], processors: list[Any],
              max_new_tokens: int, **kwargs: Any) -> tuple[list[list[int]], Any]:
    enc = tok(prompts, return_tensors="pt", padding=True)
    with torch.no_grad():
        out = model.generate(**enc, logits_processor=processors, max_new_tokens=max_new_tokens,
                             pad_token_id=ENDOFTEXT, **kwargs)
    sequences = out if isinstance(out, torch.Tensor) else out.sequences
    width = enc["input_ids"].shape[1]
    return [row[width:] for row in sequences.tolist()], out


def _text(vocab: hs.Vocab, ids: list[int]) -> str:
    return vocab.decode(ids).decode("utf-8", "replace")


def _check_forced_at(vocab: hs.Vocab, gen: list[int], budget: int) -> hs.Message:
    """`gen` holds the close ids right after `budget` reasoning tokens, and a parser fed with the
    generated ids one by one agrees: forced close at that token, reasoning/content split there."""
    assert END_THINK not in gen[:budget]  # the random model did not close by itself
    assert gen[budget : budget + 3] == CLOSE_IDS
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget, start_in_reasoning=True)
    forced_at = [i for i, t in enumerate(gen) if p.feed_tokens([t]).forced is not None]
    p.finish()
    m = p.message
    assert forced_at == [max(budget - 1, 0)]  # budget 0: before the first generated token
    assert m.reasoning_tokens == budget and m.budget_exceeded
    assert m.reasoning == _text(vocab, gen[:budget])
    kinds = [s.kind for s in m.segments]
    k = kinds.index("forced")
    assert kinds[:k] == (["reasoning"] if budget else [])
    assert m.segments[k].text == "\n</think>\n"
    # The generated close ids follow: their </think> is absorbed as a tag, nothing is lost.
    after = m.segments[k + 1 :]
    assert [s.text for s in after if s.kind != "content"][:1] == ["</think>"]
    assert "".join(s.text for s in after) == _text(vocab, gen[budget:])
    assert m.content.endswith(_text(vocab, gen[budget + 3 :]))
    return m


class _Steer(LogitsProcessor):
    """Makes row `row` emit `token` as its generated token number `step` (0-based)."""

    def __init__(self, prompt_width: int, step: int, token: int, row: int | None = None) -> None:
        self.at, self.token, self.row = prompt_width + step, token, row

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if input_ids.shape[1] != self.at:
            return scores
        scores = scores.clone()
        rows = slice(None) if self.row is None else self.row
        scores[rows, self.token] = 1e4
        return scores


def test_import_hermes_stream_does_not_import_torch() -> None:
    code = ("import sys, hermes_stream, hermes_stream.integrations; "
            "assert 'torch' not in sys.modules and 'transformers' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("budget", [0, 1, 20])
def test_greedy_forced_close_exactly_at_budget(tok: Any, vocab: hs.Vocab, model: Any,
                                               budget: int) -> None:
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    [gen], _ = _generate(model, tok, PROMPTS[:1], [proc], budget + 10)
    assert len(gen) == budget + 10
    assert proc.forced_positions == [[budget]]
    _check_forced_at(vocab, gen, budget)
    assert gen[budget + 3 :].count(END_THINK) == 0  # forced once, then stands aside


def test_batch_left_padding_sampling(tok: Any, vocab: hs.Vocab, model: Any) -> None:
    budget = 12
    widths = [len(tok(p)["input_ids"]) for p in PROMPTS]
    assert widths[0] != widths[1]  # really padded
    proc = ReasoningBudgetProcessor(vocab, budget, start_in_reasoning=True)
    torch.manual_seed(1234)
    gens, _ = _generate(model, tok, PROMPTS, [proc], budget + 8, do_sample=True, top_k=0)
    assert gens[0][:budget] != gens[1][:budget]  # sampled, not a copy
    assert proc.forced_positions == [[budget], [budget]]
    for gen in gens:
        _check_forced_at(vocab, gen, budget)


def test_num_return_sequences_and_raw_logits_untouched(tok: Any, vocab: hs.Vocab,
                                                       model: Any) -> None:
    budget = 4
    proc = ReasoningBudgetProcessor(vocab, budget, start_in_reasoning=True)
    torch.manual_seed(7)
    gens, out = _generate(model, tok, PROMPTS[1:], [proc], budget + 5, do_sample=True,
                          num_return_sequences=3, return_dict_in_generate=True,
                          output_logits=True, output_scores=True)
    assert len(gens) == 3 and proc.forced_positions == [[budget]] * 3
    for gen in gens:
        _check_forced_at(vocab, gen, budget)
    forced_step = out.scores[budget]  # processed: only the forced id is finite
    assert torch.isfinite(forced_step).sum(dim=-1).tolist() == [1, 1, 1]
    assert torch.isfinite(out.logits[budget]).all()  # the caller's raw logits were not modified


def test_natural_close_is_never_forced(tok: Any, vocab: hs.Vocab, model: Any) -> None:
    budget, step = 20, 5
    width = len(tok(PROMPTS[0])["input_ids"])
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    [gen], _ = _generate(model, tok, PROMPTS[:1], [_Steer(width, step, END_THINK), proc],
                         budget + 10)
    assert gen[step] == END_THINK and gen.count(END_THINK) == 1
    assert proc.forced_positions == [[]]
    m = hs.parse(_text(vocab, gen), reasoning_budget=None, start_in_reasoning=True)
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget, start_in_reasoning=True)
    assert all(p.feed_tokens([t]).forced is None for t in gen)
    p.finish()
    assert p.message.reasoning_tokens == step + 1  # the </think> token itself counts
    assert not p.message.budget_exceeded
    assert (p.message.reasoning, p.message.content) == (m.reasoning, m.content)


def test_ended_rows_are_left_alone(tok: Any, vocab: hs.Vocab, model: Any) -> None:
    budget, step = 6, 3
    enc_width = tok(PROMPTS, padding=True, return_tensors="pt")["input_ids"].shape[1]
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    gens, _ = _generate(model, tok, PROMPTS, [_Steer(enc_width, step, IM_END, row=0), proc],
                        budget + 6)
    assert gens[0][step] == IM_END and set(gens[0][step + 1 :]) == {ENDOFTEXT}  # padded
    assert proc.forced_positions == [[], [budget]]
    _check_forced_at(vocab, gens[1], budget)


def test_prompt_lengths_feed_an_already_generated_part(tok: Any, vocab: hs.Vocab,
                                                       model: Any) -> None:
    budget, already = 8, 3
    width = len(tok(PROMPTS[0])["input_ids"])
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    [first], _ = _generate(model, tok, PROMPTS[:1], [proc], already)
    # Resume from prompt + the first ids: those count, the prompt does not.
    resumed = PROMPTS[0] + _text(vocab, first)
    ids = tok(resumed)["input_ids"]
    assert ids[width:] == first  # the text re-tokenizes to the same ids
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True, prompt_lengths=width)
    [rest], _ = _generate(model, tok, [resumed], [proc], budget)
    assert proc.forced_positions == [[budget]]  # offsets count the already generated ids too
    _check_forced_at(vocab, first + rest, budget)


def test_reuse_and_one_token_per_generate_call(tok: Any, vocab: hs.Vocab, model: Any) -> None:
    budget = 5
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    [a], _ = _generate(model, tok, PROMPTS[:1], [proc], budget + 4)
    [b], _ = _generate(model, tok, PROMPTS[:1], [proc], budget + 4)  # new generation: reset
    assert a == b and proc.forced_positions == [[budget]]
    # generate() called once per token on the growing sequence continues the same state.
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    ids = tok(PROMPTS[0], return_tensors="pt")["input_ids"]
    width = ids.shape[1]
    for _ in range(budget + 4):
        with torch.no_grad():
            ids = model.generate(ids, attention_mask=torch.ones_like(ids),
                                 logits_processor=[proc], max_new_tokens=1,
                                 pad_token_id=ENDOFTEXT)
    gen = ids[0, width:].tolist()
    assert proc.forced_positions == [[budget]]
    _check_forced_at(vocab, gen, budget)


def test_no_budget_is_a_no_op(tok: Any, model: Any) -> None:
    proc = ReasoningBudgetProcessor(tok, None, start_in_reasoning=True)
    [gen], _ = _generate(model, tok, PROMPTS[:1], [proc], 12)
    [plain], _ = _generate(model, tok, PROMPTS[:1], [], 12)
    assert gen == plain and END_THINK not in gen


def test_processor_option_errors(vocab: hs.Vocab) -> None:
    with pytest.raises(ValueError, match="reasoning_budget"):
        ReasoningBudgetProcessor(vocab, -1)
    with pytest.raises(TypeError, match="reasoning_budget"):
        ReasoningBudgetProcessor(vocab, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Vocab"):
        ReasoningBudgetProcessor(object(), 3)
    with pytest.raises(ValueError, match="prompt_lengths"):
        ReasoningBudgetProcessor(vocab, 3, prompt_lengths=[-1])
    proc = ReasoningBudgetProcessor(vocab, 3, prompt_lengths=[1, 2])
    with pytest.raises(ValueError, match="2 entries"):
        proc(torch.zeros((3, 4), dtype=torch.long), torch.zeros((3, len(vocab))))


def test_delta_streamer_concatenation_equals_message(tok: Any, vocab: hs.Vocab,
                                                     model: Any) -> None:
    budget = 10
    proc = ReasoningBudgetProcessor(tok, budget, start_in_reasoning=True)
    streamer = proc.make_streamer(timeout=60)
    enc = tok(PROMPTS[0], return_tensors="pt")
    result: dict[str, Any] = {}

    def run() -> None:
        with torch.no_grad():
            result["out"] = model.generate(**enc, logits_processor=[proc], streamer=streamer,
                                           max_new_tokens=budget + 12, pad_token_id=ENDOFTEXT)

    thread = threading.Thread(target=run)
    thread.start()
    deltas = list(streamer)
    thread.join(60)
    assert not thread.is_alive() and streamer.ended
    gen = result["out"][0, enc["input_ids"].shape[1] :].tolist()
    m = streamer.message
    assert "".join(d.reasoning for d in deltas) == m.reasoning
    assert "".join(d.content for d in deltas) == m.content
    assert [d.forced.token_ids for d in deltas if d.forced] == [CLOSE_IDS]
    assert all(deltas)
    expected = _check_forced_at(vocab, gen, budget)
    assert (m.reasoning, m.content, m.segments) == (expected.reasoning, expected.content,
                                                    expected.segments)
    assert list(streamer) == []  # exhausted for good


def test_delta_streamer_end_of_turn_and_errors(vocab: hs.Vocab) -> None:
    s = DeltaStreamer(vocab, reasoning_budget=None, timeout=5)
    s.put(torch.tensor([vocab.encode("<|im_start|>assistant\n")]))  # the prompt: skipped
    for t in vocab.encode("<think>hm</think>Hi"):
        s.put(torch.tensor([t]))
    s.put(torch.tensor([IM_END]))
    s.put(torch.tensor([ENDOFTEXT]))  # padding after the end of turn is ignored
    s.end()
    s.end()  # idempotent
    deltas = list(s)
    assert "".join(d.reasoning for d in deltas) == "hm"
    assert "".join(d.content for d in deltas) == "Hi"
    assert (s.message.reasoning, s.message.content) == ("hm", "Hi")
    with pytest.raises(RuntimeError, match="after end"):
        s.put(torch.tensor([1]))

    s = DeltaStreamer(vocab, timeout=0.01)
    with pytest.raises(ValueError, match="batch size 1"):
        s.put(torch.zeros((2, 3), dtype=torch.long))
    with pytest.raises(ValueError, match="batch size 1"):
        next(s)  # the error reaches the consumer too

    s = DeltaStreamer(vocab, timeout=0.01)
    s.put(torch.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="batch size 1"):
        s.put(torch.tensor([3, 4]))  # one step of a batch of 2
    s = DeltaStreamer(vocab, timeout=0.01)
    with pytest.raises(queue.Empty):
        next(s)
