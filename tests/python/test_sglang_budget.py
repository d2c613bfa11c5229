"""SGLang reasoning-budget processor (hermes_stream.integrations.sglang_budget), driven as SGLang's
sampler drives a ``CustomLogitProcessor``, with CPU tensors and the installed ``sglang``.

What SGLang does, and these tests repeat (``sglang/srt/managers/schedule_batch.py``,
``sampling/sampling_batch_info.py``, ``layers/sampler.py``):

* a request's ``custom_params`` dict gets ``"__req__": weakref.proxy(req)`` once, when the ``Req``
  is made; the same dict is passed at every step;
* each batch deserialises the processor with ``CustomLogitProcessor.from_str(to_str())`` (a fresh
  instance) and groups the rows that use it;
* ``apply_custom_logit_processor``: ``selected = logits.index_select(0, rows)``, then
  ``processor(selected, [custom_params[i] for i in rows])``, then ``logits.index_copy_`` back;
* the sampled id is appended to ``req.output_ids`` (an ``array("q")``).

The model is scripted: at output position ``k`` its logits peak at ``script[k]``, so what it would
write is known and every forced id is visible in the output. The output is then checked against
``hs.StreamParser.feed_tokens`` with the same budget: the close ids follow the token at which the
parser reports ``forced``, and the count is the parser's. Skipped (with the reason) without sglang.
"""

from __future__ import annotations

import importlib.util
import logging
import weakref
from array import array
from typing import Any

import pytest

from peer_cases import qwen3_tokenizer

if importlib.util.find_spec("sglang") is None:
    pytest.skip("optional peer sglang not installed (bench/peers/install.sh)", allow_module_level=True)
torch = pytest.importorskip("torch", reason="the processor works on torch tensors")
pytest.importorskip("transformers", reason="needs transformers for the Qwen3 tokenizer")
try:
    # Order matters (hence no isort here): sglang_budget first, it imports sglang's parts.
    from hermes_stream.integrations import sglang_budget as sb  # noqa: I001
    from sglang.srt.sampling.custom_logit_processor import CustomLogitProcessor
except ImportError as exc:  # sglang --no-deps without dill (bench/peers/install.sh installs it)
    pytest.skip(f"sglang's custom_logit_processor does not import ({exc}); "
                "run bench/peers/install.sh", allow_module_level=True)

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")

THINKING_SYSTEM = ("<|im_start|>system\nYou are a deep thinking AI. Enclose your thoughts in "
                   "<think> </think> tags.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                   "<|im_start|>assistant\n")


@pytest.fixture(scope="module")
def tok() -> Any:
    return qwen3_tokenizer()


@pytest.fixture(scope="module")
def vocab(tok: Any) -> hs.Vocab:
    return hs.Vocab.from_tokenizer(tok)


class Req:
    """The attributes of sglang's ``Req`` that a custom logit processor reads."""

    def __init__(self, prompt: list[int], tokenizer: Any, script: list[int],
                 custom_params: dict[str, Any] | None, processor: str | None) -> None:
        self.origin_input_ids = array("q", prompt)
        self.output_ids = array("q")
        self.tokenizer = tokenizer
        self.script = script  # what the model writes at each output position
        self.custom_logit_processor = processor
        # Req.__init__: the dict gets a weak proxy to the request (only with a processor).
        if processor is not None and isinstance(custom_params, dict):
            custom_params = custom_params | {"__req__": weakref.proxy(self)}
        self.custom_params = custom_params
        self.finished = False


def _apply(logits: Any, reqs: list[Req]) -> None:
    """sampler.apply_custom_logit_processor, for one token per row (no speculative decoding)."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(reqs):
        if r.custom_logit_processor is not None:
            groups.setdefault(r.custom_logit_processor, []).append(i)
    for processor_str, rows in groups.items():
        processor = CustomLogitProcessor.from_str(processor_str)  # a fresh instance per batch
        indices = torch.tensor(rows, dtype=torch.long)
        selected = logits.index_select(0, indices)
        result = processor(selected, [reqs[i].custom_params for i in rows])
        assert result.shape == selected.shape
        logits.index_copy_(0, indices, result.to(logits.dtype))


def _run(reqs: list[Req], eot: int, n_vocab: int, max_steps: int = 400) -> list[Any]:
    """Decode until every request ends; returns the logits of each step (after processing)."""
    seen = []
    for _ in range(max_steps):
        live = [r for r in reqs if not r.finished]
        if not live:
            break
        logits = torch.zeros(len(live), n_vocab)
        for i, r in enumerate(live):
            k = len(r.output_ids)
            logits[i, r.script[k] if k < len(r.script) else eot] = 10.0
        _apply(logits, live)
        seen.append(logits)
        for i, r in enumerate(live):
            tid = int(torch.argmax(logits[i]))
            r.output_ids.append(tid)
            if tid == eot:
                r.finished = True
    assert all(r.finished for r in reqs)
    return seen


def _expect_forced(vocab: hs.Vocab, output: list[int], budget: int, start: bool,
                   close: str = "\n</think>\n") -> list[int]:
    """Output offsets after which hs.StreamParser.feed_tokens reports a forced close."""
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget, start_in_reasoning=start,
                        budget_close_text=close)
    at = [-1] if p.feed_tokens([]).forced else []
    for k, t in enumerate(output):
        if p.finished:
            break
        if p.feed_tokens(t).forced:
            at.append(k)
    return at


def _ids(tok: Any, text: str) -> list[int]:
    return tok.encode(text, add_special_tokens=False)


def _script(tok: Any, reasoning_words: int, opened: bool = False, answer: str = "The answer.") -> list[int]:
    body = " ".join(f"w{i}" for i in range(reasoning_words))
    return _ids(tok, ("" if opened else "<think>") + body + "</think>\n" + answer)


@pytest.mark.parametrize("budget", [0, 1, 5, 17, 10_000])
@pytest.mark.parametrize("opened", [False, True], ids=["model_opens", "prompt_opens"])
def test_forces_close_after_budget(tok: Any, vocab: hs.Vocab, budget: int, opened: bool) -> None:
    """The close ids come right after the parser's budget-th reasoning token, one per step;
    the thinking system prompt's "<think> </think>" does not count (SPEC §4.2, §4.3)."""
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    prompt = _ids(tok, THINKING_SYSTEM + ("<think>\n" if opened else ""))
    script = _script(tok, 30, opened)
    req = Req(prompt, tok, script, {"reasoning_budget": budget},
              sb.HermesReasoningBudgetLogitProcessor.to_str())
    _run([req], eot, len(tok))
    out = list(req.output_ids)
    close = vocab.encode("\n</think>\n")
    forced_at = _expect_forced(vocab, out, budget, opened)
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget, start_in_reasoning=opened)
    p.feed_tokens(out)
    p.finish()
    m = p.message
    if budget == 10_000:  # never reached: the model's own output, untouched
        assert out == script + [eot] and forced_at == [] and not m.budget_exceeded
        return
    assert len(forced_at) == 1 and m.budget_exceeded and m.reasoning_tokens == budget
    k = forced_at[0] + 1
    assert out[k:k + len(close)] == close
    assert out[:k] == script[:k]  # nothing touched before the budget
    assert out[k + len(close):] == script[k + len(close):] + [eot]  # then it stands aside


def test_model_close_right_after(tok: Any, vocab: hs.Vocab) -> None:
    """The model writes </think> right after the forced close ids. The forced ids are fed to the
    row's parser like generated ids, so their own </think> is the one absorbed (after the forced
    close, SPEC rule 7) and the model's extra one is answer text: exactly what a client-side
    parser without a budget sees in the returned text. Nothing is forced again."""
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    budget = 4
    close = vocab.encode("\n</think>\n")
    head = _ids(tok, "<think>a b c d e f")
    k = 1 + budget  # the forced close follows the budget-th reasoning token
    script = head[:k] + [0] * len(close) + _ids(tok, "</think>Answer.")
    req = Req(_ids(tok, THINKING_SYSTEM), tok, script, {"reasoning_budget": budget},
              sb.HermesReasoningBudgetLogitProcessor.to_str())
    _run([req], eot, len(tok))
    out = list(req.output_ids)
    assert out[k:k + len(close)] == close
    assert out[k + len(close):] == script[k + len(close):] + [eot]
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget)
    p.feed_tokens(out)
    p.finish()
    client = hs.parse(vocab.decode(out[:-1]).decode(), reasoning_budget=None)
    assert p.message.reasoning_tokens == budget and p.message.budget_exceeded
    # (The close text's leading "\n" is content for the budget parser, reasoning for the client.)
    assert client.reasoning == p.message.reasoning + "\n" == "a b c d\n"
    assert client.content == "\n</think>Answer." and p.message.content == "\n\n</think>Answer."


def test_thinking_off_is_untouched(tok: Any) -> None:
    """No reasoning in the output: no logits work at all (every row's logits unchanged)."""
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    script = _ids(tok, "Plain answer, no thinking. <think> is only mentioned </think>")
    req = Req(_ids(tok, THINKING_SYSTEM), tok, script, {"reasoning_budget": 0},
              sb.HermesReasoningBudgetLogitProcessor.to_str())
    # The model writes "<think>" mid-answer: that opens reasoning (SPEC rule 7), and budget 0
    # closes it at once; everything before it is untouched.
    _run([req], eot, len(tok))
    out = list(req.output_ids)
    i = script.index(tok.convert_tokens_to_ids("<think>"))
    assert out[: i + 1] == script[: i + 1]


def test_rows_outside_reasoning_are_not_modified(tok: Any) -> None:
    n_vocab = len(tok)
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    proc = sb.HermesReasoningBudgetLogitProcessor.to_str()
    req = Req(_ids(tok, THINKING_SYSTEM), tok, _ids(tok, "Hello there, friend."),
              {"reasoning_budget": 3}, proc)
    for _ in range(4):
        logits = torch.randn(1, n_vocab)
        before = logits.clone()
        _apply(logits, [req])
        assert torch.equal(logits, before)
        req.output_ids.append(int(torch.argmax(before[0])) % 1000)
    assert eot not in req.output_ids


def test_mixed_batch(tok: Any, vocab: hs.Vocab, caplog: Any) -> None:
    """40 requests in one batch: different budgets, prompt-opened or not, no processor, no
    budget, bad params (logged, left alone: raising would stop SGLang's scheduler)."""
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    proc = sb.HermesReasoningBudgetLogitProcessor.to_str()
    reqs, want = [], []
    for i in range(40):
        opened = i % 3 == 0
        prompt = _ids(tok, THINKING_SYSTEM + ("<think>" if opened else ""))
        script = _script(tok, 8 + i % 7, opened)
        kind = i % 8
        if kind == 5:
            reqs.append(Req(prompt, tok, script, None, None))  # no processor
            want.append(None)
        elif kind == 6:
            reqs.append(Req(prompt, tok, script, {"reasoning_budget": None}, proc))
            want.append(None)
        elif kind == 7:
            reqs.append(Req(prompt, tok, script, {"reasoning_budget": "many"}, proc))
            want.append(None)
        else:
            budget = (i * 7) % 9
            reqs.append(Req(prompt, tok, script, {"reasoning_budget": budget}, proc))
            want.append((budget, opened))
    with caplog.at_level(logging.ERROR, logger=sb.__name__):
        _run(reqs, eot, len(tok))
    assert sum("reasoning_budget must be" in r.getMessage() for r in caplog.records) == 5
    close = vocab.encode("\n</think>\n")
    for r, w in zip(reqs, want):
        out = list(r.output_ids)
        if w is None:
            assert out == r.script + [eot]
            continue
        budget, opened = w
        at = _expect_forced(vocab, out, budget, opened)
        assert len(at) == 1
        assert out[at[0] + 1: at[0] + 1 + len(close)] == close


def test_custom_close_text_and_explicit_start(tok: Any, vocab: hs.Vocab) -> None:
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    text = "\nOut of time.\n</think>\n"
    script = _script(tok, 20, opened=True)
    # The prompt does not open <think>, but the caller says it did.
    req = Req(_ids(tok, THINKING_SYSTEM), tok, script,
              {"reasoning_budget": 6, "budget_close_text": text, "start_in_reasoning": True},
              sb.HermesReasoningBudgetLogitProcessor.to_str())
    _run([req], eot, len(tok))
    out = list(req.output_ids)
    at = _expect_forced(vocab, out, 6, True, text)
    close = vocab.encode(text)
    assert len(at) == 1 and out[at[0] + 1: at[0] + 1 + len(close)] == close


def test_retracted_request_is_refed(tok: Any, vocab: hs.Vocab) -> None:
    """SGLang may retract a request and run it again: shorter output_ids restart the state."""
    proc = sb.HermesReasoningBudgetLogitProcessor()
    req = Req(_ids(tok, THINKING_SYSTEM), tok, [], {"reasoning_budget": 3}, "x")
    params = req.custom_params
    n_vocab = len(tok)
    think = tok.convert_tokens_to_ids("<think>")
    for t in [think] + _ids(tok, " a b"):
        req.output_ids.append(t)
        proc(torch.zeros(1, n_vocab), [params])
    del req.output_ids[1:]  # retracted back to "<think>"
    proc(torch.zeros(1, n_vocab), [params])
    assert params[sb.STATE_KEY].n_fed == 1 and not params[sb.STATE_KEY].pending
    for t in _ids(tok, " a b c"):
        req.output_ids.append(t)
        logits = proc(torch.zeros(1, n_vocab), [params])
    assert int(torch.argmax(logits[0])) == vocab.encode("\n</think>\n")[0]


def test_no_tokenizer_is_logged_not_raised(tok: Any, caplog: Any) -> None:
    req = Req(_ids(tok, THINKING_SYSTEM), None, [], {"reasoning_budget": 1}, "x")
    logits = torch.zeros(1, 10)
    with caplog.at_level(logging.ERROR, logger=sb.__name__):
        out = sb.HermesReasoningBudgetLogitProcessor()(logits, [req.custom_params, None])
    assert torch.equal(out, torch.zeros(1, 10))
    assert "no tokenizer" in caplog.text


def test_parser_kwargs() -> None:
    assert sb.parser_kwargs({}) == {"reasoning_budget": 30_000, "budget_close_text": "\n</think>\n",
                                    "loop_guard": None}
    assert sb.parser_kwargs({"loop_guard": "close"})["loop_guard"] == hs.LoopGuard(on_loop="close")
    assert sb.parser_kwargs({"reasoning_budget": 0, "start_in_reasoning": True})[
        "start_in_reasoning"] is True
    for bad in ({"reasoning_budget": -1}, {"reasoning_budget": True}, {"reasoning_budget": 1.5},
                {"budget_close_text": 3}, {"start_in_reasoning": "yes"}, {"loop_guard": "often"},
                {"loop_guard": {"min_repeats": 1}}):
        with pytest.raises((TypeError, ValueError)):
            sb.parser_kwargs(bad)


def test_serialised_by_reference() -> None:
    """to_str() names the class (dill pickles importable classes by reference)."""
    s = sb.HermesReasoningBudgetLogitProcessor.to_str()
    assert isinstance(CustomLogitProcessor.from_str(s), sb.HermesReasoningBudgetLogitProcessor)
    assert len(s) < 1000


def test_empty_custom_params_use_the_default_budget(tok: Any) -> None:
    req = Req(_ids(tok, THINKING_SYSTEM), tok, [], {}, "x")
    proc = sb.HermesReasoningBudgetLogitProcessor()
    req.output_ids.append(tok.convert_tokens_to_ids("<think>"))
    proc(torch.zeros(1, 8), [req.custom_params])
    row = req.custom_params[sb.STATE_KEY]
    assert row.parser.reasoning_tokens == 0 and not row.pending and row.n_fed == 1
    # Without a dict SGLang adds no "__req__": the processor has nothing to read and skips.
    assert Req([], tok, [], None, "x").custom_params is None


def test_loop_guard_closes_a_looping_request(tok: Any, vocab: hs.Vocab) -> None:
    """custom_params={"loop_guard": ...}: a request stuck repeating a span gets the close ids
    right after the token that completed the loop (no budget needed); "report" leaves it alone."""
    eot = tok.convert_tokens_to_ids("<|im_end|>")
    guard = {"on_loop": "close", "min_repeats": 4, "max_period": 8, "min_span": 12}
    script = _ids(tok, "<think>Let me see. " + "Wait, check again. " * 12 + "</think>Answer.")
    closing = Req([], tok, script, {"reasoning_budget": None, "loop_guard": guard},
                  sb.HermesReasoningBudgetLogitProcessor.to_str())
    reporting = Req([], tok, script, {"reasoning_budget": None,
                                      "loop_guard": {**guard, "on_loop": "report"}},
                    sb.HermesReasoningBudgetLogitProcessor.to_str())
    _run([closing, reporting], eot, len(tok))
    ref = hs.StreamParser(vocab=vocab, reasoning_budget=None, loop_guard=hs.LoopGuard(**guard))
    fired = next(k for k, t in enumerate(script) if ref.feed_tokens([t]).loop is not None)
    close = vocab.encode("\n</think>\n")
    out = list(closing.output_ids)
    assert out[:fired + 1] == script[:fired + 1]
    assert out[fired + 1:fired + 1 + len(close)] == close
    assert list(reporting.output_ids) == script + [eot]
    row = closing.custom_params[sb.STATE_KEY]
    assert row.parser.loop_closed
