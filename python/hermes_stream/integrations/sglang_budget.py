"""SGLang reasoning budget: a ``CustomLogitProcessor`` that forces the close of ``<think>``.

Launch SGLang with custom logit processors enabled (and the parsers, see ``sglang.py``)::

    python -m sglang.launch_server --model-path NousResearch/Hermes-4-14B \\
        --reasoning-parser hermes_stream --tool-call-parser hermes_stream \\
        --enable-custom-logit-processor

and send, per request, the processor (serialised with ``to_str()``) and its parameters::

    from hermes_stream.integrations.sglang_budget import HermesReasoningBudgetLogitProcessor
    extra_body = {"custom_logit_processor": HermesReasoningBudgetLogitProcessor.to_str(),
                  "custom_params": {"reasoning_budget": 1024}}

``to_str()`` pickles the class *by reference* (``dill``), so the server process must be able to
import ``hermes_stream``.

Semantics (the same as the vLLM processor and ``transformers``' ``ReasoningBudgetProcessor``):

* One native ``hs.StreamParser`` per request (``keep_message=False``) is fed the request's output
  ids (``__req__.output_ids``, which SGLang adds to ``custom_params``) one by one with
  ``feed_tokens``: the count is exactly the parser's (SPEC rule 13), multi-token tags included.
* The initial state comes from the *final turn* of the prompt ids (``__req__.origin_input_ids``):
  a prompt whose last turn ends in an open ``<think>`` starts in reasoning; the ``<think>
  </think>`` text of Hermes 4's thinking system prompt (an earlier turn) never counts.
* When the parser reports ``Delta.forced``, its ``token_ids`` (``budget_close_text`` encoded with
  the model's vocabulary) are forced one per step (every other logit of that row set to
  ``-inf``); then the processor stands aside. The forced ids are fed back like generated ids,
  so the ``</think>`` among them is the one the parser absorbs after a forced close; a further
  ``</think>`` the model writes is answer text, as a client-side parser sees it. A row outside reasoning costs one native ``feed_tokens`` per step and no
  logits work; requests that do not name this processor are never seen.
* ``custom_params`` must be a dict (``{}`` for the defaults: SGLang gives the processor the
  request only then): ``reasoning_budget`` (int >= 0, or None for no budget; default 30,000),
  ``budget_close_text`` (default ``"\\n</think>\\n"``), ``start_in_reasoning`` (bool, overrides
  the prompt's state). Parser options come from :func:`parser_kwargs` (one place to add more).
* Model output never raises here, and neither does a bad parameter: raising inside SGLang's
  sampler would take the scheduler down, so a request with invalid ``custom_params`` (or a server
  without a tokenizer) is logged once and left unconstrained.

The per-request state lives in that request's ``custom_params`` dict (SGLang keeps one per
request for its whole life and gives the processor a fresh instance per batch), so it is freed
with the request. A request whose ``output_ids`` shrink (retraction) is re-fed from the start.
Not supported: speculative decoding (several tokens per row per step).
"""

from __future__ import annotations

import logging
from typing import Any

from ._sglang_import import ensure_sglang_parsers_importable

ensure_sglang_parsers_importable()

from sglang.srt.sampling.custom_logit_processor import CustomLogitProcessor  # noqa: E402

from .._options import DEFAULT_BUDGET, DEFAULT_CLOSE_TEXT, LoopGuard  # noqa: E402
from ._common import BudgetRow, prompt_opens_reasoning, turn_ids  # noqa: E402
from .transformers import as_vocab  # noqa: E402

__all__ = ["HermesReasoningBudgetLogitProcessor", "parser_kwargs"]

logger = logging.getLogger(__name__)

#: Key of the per-request state in that request's ``custom_params``.
STATE_KEY = "__hermes_stream_budget__"
_OFF = "off"  # the state of a request the processor leaves alone
_VOCABS: dict[int, tuple[Any, Any, frozenset[int]]] = {}


def parser_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """``hs.StreamParser`` options of one request from its ``custom_params``.

    Raises ``TypeError`` / ``ValueError`` for a bad value (the caller logs it)."""
    budget = params.get("reasoning_budget", DEFAULT_BUDGET)
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)):
        raise TypeError(f"reasoning_budget must be an int >= 0 or None, got {budget!r}")
    if budget is not None and budget < 0:
        raise ValueError(f"reasoning_budget must be >= 0 or None, got {budget}")
    close = params.get("budget_close_text", DEFAULT_CLOSE_TEXT)
    if not isinstance(close, str):
        raise TypeError(f"budget_close_text must be a str, got {type(close).__name__}")
    out: dict[str, Any] = {"reasoning_budget": budget, "budget_close_text": close,
                           "loop_guard": LoopGuard.from_request(params.get("loop_guard"))}
    start = params.get("start_in_reasoning")
    if start is not None:
        if not isinstance(start, bool):
            raise TypeError(f"start_in_reasoning must be a bool, got {start!r}")
        out["start_in_reasoning"] = start
    return out


def _vocab(tokenizer: Any) -> tuple[Any, frozenset[int]]:
    """(hs.Vocab, turn-boundary ids) of the server's tokenizer, built once per tokenizer."""
    hit = _VOCABS.get(id(tokenizer))
    if hit is not None and hit[0] is tokenizer:
        return hit[1], hit[2]
    if tokenizer is None:
        raise ValueError("the request has no tokenizer (server started with "
                         "--skip-tokenizer-init?): the close ids cannot be encoded")
    vocab = as_vocab(tokenizer)
    _VOCABS[id(tokenizer)] = (tokenizer, vocab, turn_ids(vocab))
    return vocab, _VOCABS[id(tokenizer)][2]


def _new_row(params: dict[str, Any], req: Any) -> BudgetRow | str:
    kwargs = parser_kwargs(params)
    if kwargs["reasoning_budget"] is None and kwargs["loop_guard"] is None:
        return _OFF
    vocab, turns = _vocab(req.tokenizer)
    if "start_in_reasoning" not in kwargs:
        kwargs["start_in_reasoning"] = prompt_opens_reasoning(req.origin_input_ids, vocab, turns)
    return BudgetRow(vocab, **kwargs)


class HermesReasoningBudgetLogitProcessor(CustomLogitProcessor):
    """Force the close of reasoning after ``custom_params["reasoning_budget"]`` reasoning
    tokens, per request (see the module docstring)."""

    def __call__(self, logits: Any, custom_param_list: list[dict[str, Any] | None] | None = None
                 ) -> Any:
        if not custom_param_list:
            return logits
        forced: list[tuple[int, int]] = []
        for i, params in enumerate(custom_param_list):
            if not isinstance(params, dict):
                continue
            row = params.get(STATE_KEY)
            if row is _OFF:
                continue
            try:
                req = params["__req__"]
                out = req.output_ids
                if row is None or len(out) < row.n_fed:  # new request, or retracted
                    row = params[STATE_KEY] = _new_row(params, req)
                    if isinstance(row, str):  # _OFF
                        continue
                tid = row.step(out)
            except ReferenceError:  # the request is gone
                continue
            except Exception as exc:  # bad params / no tokenizer: never take the server down
                params[STATE_KEY] = _OFF
                logger.error("hermes_stream reasoning budget disabled for a request: %s", exc)
                continue
            if tid is not None:
                forced.append((i, tid))
        if not forced:
            return logits
        n_vocab = logits.shape[-1]
        for i, tid in forced:
            if 0 <= tid < n_vocab:
                logits[i].fill_(float("-inf"))
                logits[i, tid] = 0.0
            else:
                logger.error("hermes_stream: forced close id %d is outside the %d logits", tid,
                             n_vocab)
        return logits
