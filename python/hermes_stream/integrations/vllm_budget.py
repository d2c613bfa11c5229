"""vLLM logits processor enforcing the Hermes 4 reasoning budget where tokens are sampled.

    vllm serve NousResearch/Hermes-4-14B \\
        --logits-processors hermes_stream.integrations.vllm:ReasoningBudgetLogitsProcessor \\
        --reasoning-parser-plugin hermes_stream.integrations.vllm --reasoning-parser hermes_stream

Per request ``vllm_xargs={"reasoning_budget": N}`` (an int >= 0, or ``"off"``) and/or
``vllm_xargs={"loop_guard": ...}`` (``hs.LoopGuard.from_request``: ``true``, ``"close"``,
``"report"`` or the guard's fields as a JSON object string, since ``vllm_xargs`` values are
str, int, float or list; with ``on_loop="close"`` a looping trace is closed like the
budget closes it); without a budget the
server default applies: ``HERMES_STREAM_REASONING_BUDGET`` in the server's environment (an int,
or ``off`` / ``none`` for no default), 30,000 when unset. A bad per-request value is rejected by
:meth:`ReasoningBudgetLogitsProcessor.validate_params` (vLLM answers HTTP 400).

How it works (vLLM v1 ``LogitsProcessor`` interface):

* One native :class:`hermes_stream.StreamParser` per budgeted row, with the vocabulary of the
  server's tokenizer (``hs.Vocab``, built once per processor), fed every output id of its row
  (``feed_tokens`` semantics, so the count is exactly the parser's: a token counts when the parser
  is inside reasoning at its first byte; multi-token Llama-3 tags included). All rows are fed in
  one native call per engine step (the GIL released while parsing).
* The initial state comes from the final turn of the prompt only (after the last
  ``<|im_start|>`` / ``<|start_header_id|>`` / end-of-turn id): the row starts in reasoning when
  the last ``<think>`` / ``</think>`` there is ``<think>``. The ``<think> </think>`` text of
  Hermes 4's thinking system prompt therefore never counts. Only generated tokens are counted.
* When a delta carries ``forced`` (the budget was reached), its ``token_ids`` (the ids of
  ``budget_close_text``) are forced one per step: the row's logits become ``-inf`` except the
  forced id (0.0). The forced ids are fed back to the parser like any sampled id (the parser is
  already in content, so the ``</think>`` among them is absorbed as a tag). Then it stands aside.
  Any source of ``Delta.forced`` is honoured the same way (e.g. a parser option that closes a
  loop), so parser options are built in one place: :func:`parser_options`.
* Rows that are not budgeted are not tracked; a row that is not forcing costs one id fed to its
  parser per step and no logits work; ``apply`` returns at once when no row is forcing.
* A sampled id that is not the expected forced id (a processor after this one overrode it) drops
  the rest of that forced sequence. An id outside the tokenizer's vocabulary (a padded
  embedding row) is counted as a token without text. An end-of-turn id ends the row.
* Preemption: a re-added row is replayed from its output ids, which rebuilds the same state.
  Output ids are read from vLLM's live per-row list; async-scheduling placeholders (``-1``) are
  left for the next step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates

from .. import _core
from .._options import DEFAULT_BUDGET, DEFAULT_CLOSE_TEXT, LoopGuard
from .._parser import StreamParser
from .._vocab import Vocab
from ..reference.tags import THINK_CLOSE, THINK_OPEN
from .transformers import as_vocab

if TYPE_CHECKING:
    from vllm.config import VllmConfig

__all__ = [
    "BUDGET_ENV",
    "BUDGET_KEY",
    "LOOP_KEY",
    "ReasoningBudgetLogitsProcessor",
    "default_budget",
    "parser_options",
    "prompt_opens_reasoning",
]

logger = logging.getLogger(__name__)

#: The server-wide default budget (an int >= 0; "off" / "none" for no default; unset: 30,000).
BUDGET_ENV = "HERMES_STREAM_REASONING_BUDGET"
#: The per-request keys in ``vllm_xargs`` (``SamplingParams.extra_args``).
BUDGET_KEY = "reasoning_budget"
LOOP_KEY = "loop_guard"  # hs.LoopGuard.from_request(): true, "report", "close" or its fields
_OFF = ("off", "none", "")
_MAX_BUDGET = 2**62

#: Token texts that start or end a turn in Hermes 4's ChatML and Llama-3 templates.
_TURN_TOKENS = ("<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|eot_id|>")


def _check_budget(value: object, where: str) -> int | None:
    if isinstance(value, str) and value.strip().lower() in _OFF:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{where} must be an int >= 0 or 'off', got {value!r} ({type(value).__name__})")
    if not 0 <= value < _MAX_BUDGET:
        raise ValueError(f"{where} must be an int >= 0 or 'off', got {value}")
    return value


def default_budget(environ: Mapping[str, str] | None = None) -> int | None:
    """The server default from ``HERMES_STREAM_REASONING_BUDGET`` (30,000 when unset)."""
    raw = (os.environ if environ is None else environ).get(BUDGET_ENV)
    if raw is None:
        return DEFAULT_BUDGET
    text = raw.strip()
    if text.lower() in _OFF:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{BUDGET_ENV} must be an int >= 0 or 'off', got {raw!r}") from None
    return _check_budget(value, BUDGET_ENV)


def parser_options(extra_args: Mapping[str, Any] | None,
                   default: int | None) -> dict[str, Any] | None:
    """``StreamParser`` options for one request (``vllm_xargs``), or None: not tracked.

    The one place where request arguments become parser options (the row adds ``vocab``,
    ``start_in_reasoning`` and ``keep_message=False``)."""
    budget = default
    guard = None
    if extra_args:
        if BUDGET_KEY in extra_args:
            budget = _check_budget(extra_args[BUDGET_KEY], f"vllm_xargs[{BUDGET_KEY!r}]")
        if LOOP_KEY in extra_args:
            guard = _check_loop_guard(extra_args[LOOP_KEY])
    if budget is None and guard is None:
        return None
    return {"reasoning_budget": budget, "budget_close_text": DEFAULT_CLOSE_TEXT,
            "loop_guard": guard}


def _check_loop_guard(value: object) -> LoopGuard | None:
    try:
        return LoopGuard.from_request(value)
    except ValueError as exc:
        raise ValueError(f"vllm_xargs[{LOOP_KEY!r}]: {exc}") from None


def prompt_opens_reasoning(vocab: Vocab, prompt_ids: list[int] | None,
                           turn_ids: frozenset[int]) -> bool:
    """True when the final turn of ``prompt_ids`` ends inside ``<think>`` (the last think tag
    after the last turn-boundary id is ``<think>``). Decoded bytes are compared, so multi-token
    tags (Llama-3) count like single-token ones."""
    if not prompt_ids:
        return False
    start = 0
    for i in range(len(prompt_ids) - 1, -1, -1):
        if prompt_ids[i] in turn_ids:
            start = i + 1
            break
    tail = [t for t in prompt_ids[start:] if 0 <= t < len(vocab)]
    text = vocab.decode(tail)
    return text.rfind(THINK_OPEN.encode()) > text.rfind(THINK_CLOSE.encode())


class _Row:
    """One budgeted request: its parser, its live output ids and the forced ids to emit."""

    __slots__ = ("parser", "output", "n_fed", "pending", "done", "guarded")

    def __init__(self, parser: StreamParser, output: list[int], guarded: bool = False) -> None:
        self.parser = parser
        self.guarded = guarded  # a loop guard: the parser takes token ids only
        self.output = output  # vLLM's live list of this request's output ids
        self.n_fed = 0
        self.pending: list[int] = []  # forced ids still to emit, next one first
        self.done = False


class ReasoningBudgetLogitsProcessor(LogitsProcessor):
    """Force the close of reasoning after the request's reasoning budget (see the module doc)."""

    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        extra = getattr(sampling_params, "extra_args", None)
        if extra and BUDGET_KEY in extra:
            _check_budget(extra[BUDGET_KEY], f"vllm_xargs[{BUDGET_KEY!r}]")
        if extra and LOOP_KEY in extra:
            _check_loop_guard(extra[LOOP_KEY])

    def __init__(self, vllm_config: VllmConfig, device: torch.device,
                 is_pin_memory: bool) -> None:
        self.default_budget = default_budget()
        self._model_config = getattr(vllm_config, "model_config", None)
        self._vocab: Vocab | None = None
        self._turn_ids: frozenset[int] = frozenset()
        self._n_logits: int | None = None
        self._rows: dict[int, _Row] = {}
        self._parsers: dict[int, StreamParser] = {}  # the rows still fed
        self._ended = False  # a row ended during this step
        self._vocab_error_logged = False
        if self.default_budget is not None:
            self._ensure_vocab()  # at startup, not in the first budgeted step

    # -- vocabulary -------------------------------------------------------------------------

    def _ensure_vocab(self) -> Vocab:
        if self._vocab is not None:
            return self._vocab
        if self._model_config is None:
            raise ValueError("ReasoningBudgetLogitsProcessor needs vllm_config.model_config")
        from vllm.tokenizers import cached_tokenizer_from_config

        tokenizer = cached_tokenizer_from_config(self._model_config)
        if tokenizer is None:
            raise ValueError("ReasoningBudgetLogitsProcessor needs the tokenizer "
                             "(do not use --skip-tokenizer-init)")
        self.set_vocab(as_vocab(tokenizer), tokenizer.get_vocab(),
                       self._model_config.get_vocab_size())
        return self._vocab  # type: ignore[return-value]

    def set_vocab(self, vocab: Vocab, token_to_id: Mapping[str, int],
                  n_logits: int | None = None) -> None:
        """Use ``vocab`` (and the tokenizer's ``get_vocab()`` for the turn-boundary ids)."""
        ids = vocab.encode(DEFAULT_CLOSE_TEXT)
        if n_logits is not None and max(ids) >= n_logits:
            raise ValueError(f"the budget close ids {ids} exceed the model's {n_logits} logits")
        self._vocab = vocab
        self._n_logits = n_logits
        self._turn_ids = frozenset(token_to_id[t] for t in _TURN_TOKENS if t in token_to_id)

    # -- LogitsProcessor interface ----------------------------------------------------------

    def is_argmax_invariant(self) -> bool:
        return False  # forcing changes the argmax

    def _new_row(self, params: Any, prompt_ids: list[int] | None,
                 output_ids: list[int]) -> _Row | None:
        options = parser_options(getattr(params, "extra_args", None), self.default_budget)
        if options is None:
            return None
        try:
            vocab = self._ensure_vocab()
        except ValueError as exc:  # e.g. --skip-tokenizer-init: never raise in the engine loop
            if not self._vocab_error_logged:
                self._vocab_error_logged = True
                logger.error("hermes_stream reasoning budget disabled: %s", exc)
            return None
        start = prompt_opens_reasoning(vocab, prompt_ids, self._turn_ids)
        parser = StreamParser(vocab=vocab, keep_message=False, start_in_reasoning=start,
                              **options)
        row = _Row(parser, output_ids, guarded=options["loop_guard"] is not None)
        # Budget 0 with a prompt-opened trace: the close is due before any output id.
        self._after_delta(row, parser.feed_tokens([]))
        return row

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        rows = self._rows
        if process_dict_updates(rows, batch_update, self._new_row):
            self._parsers = {i: r.parser for i, r in rows.items() if not r.done}
        if not self._parsers:
            return
        items: list[tuple[int, list[int]]] = []
        for i in self._parsers:
            row = rows[i]
            out = row.output
            n = len(out)
            if n == row.n_fed:
                continue
            if n < row.n_fed:  # output rewound (kv-load failure): the state is unknown
                self._retire(i, "its output ids were rewound")
                continue
            new = out[row.n_fed:]
            if new[-1] == -1:  # async-scheduling placeholders: next step
                new = new[:new.index(-1)]
                if not new:
                    continue
            if len(new) == 1:
                items.append((i, new))
            else:  # catching up (a re-added row): one id at a time, forced ids matched in order
                self._feed_slow(i, new)
        if not items:
            if self._ended:
                self._ended = False
                self._parsers = {i: r.parser for i, r in rows.items() if not r.done}
            return
        try:
            deltas = _core.feed_many(self._parsers, items)
        except ValueError:  # an id outside the vocabulary: feed those rows one id at a time
            deltas = None
        if deltas is None:
            for i, new in items:
                self._feed_slow(i, new)
        else:
            for i, new in items:
                self._after_feed(i, new, deltas[i])
        if self._ended:
            self._ended = False
            self._parsers = {i: r.parser for i, r in rows.items() if not r.done}

    def _after_feed(self, i: int, new: list[int], delta: Any) -> None:
        row = self._rows[i]
        row.n_fed += len(new)
        pending = row.pending
        if pending:
            for tid in new:
                if pending and tid == pending[0]:
                    del pending[0]
                else:  # overridden after us: give up this forced sequence
                    pending.clear()
                    break
        if row.parser.finished:  # an end-of-turn id
            row.done = True
            pending.clear()
            self._ended = True
            return
        self._after_delta(row, delta)

    def _feed_slow(self, i: int, new: list[int]) -> None:
        row = self._rows[i]
        vocab = self._vocab
        assert vocab is not None
        n_known = len(vocab)
        for tid in new:
            if row.done:
                break
            if 0 <= tid < n_known:
                delta = row.parser.feed_tokens([tid])
            elif row.guarded:  # a guard watches token ids only: it cannot take a textless token
                self._retire(i, f"id {tid} has no token (padded logits) and a loop guard is on")
                break
            else:  # a padded logit id: a token without text
                delta = row.parser.feed_bytes(b"", 1)
            self._after_feed(i, [tid], delta)

    @staticmethod
    def _after_delta(row: _Row, delta: Any) -> None:
        forced = delta.forced
        if forced is not None and forced.token_ids:
            row.pending.extend(forced.token_ids)

    def _retire(self, i: int, why: str) -> None:
        logger.warning("hermes_stream reasoning budget: row %d no longer tracked: %s", i, why)
        self._rows[i].done = True
        self._rows[i].pending.clear()
        self._parsers = {k: r.parser for k, r in self._rows.items() if not r.done}

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        forced = [(i, r.pending[0]) for i, r in self._rows.items() if r.pending]
        if not forced:
            return logits
        n_rows = logits.shape[0]
        forced = [(i, t) for i, t in forced if i < n_rows]
        if not forced:
            return logits
        rows = torch.tensor([i for i, _ in forced], dtype=torch.long, device=logits.device)
        ids = torch.tensor([t for _, t in forced], dtype=torch.long, device=logits.device)
        logits.index_fill_(0, rows, float("-inf"))
        logits[rows, ids] = 0.0
        return logits

    # -- introspection (tests, metrics) -----------------------------------------------------

    def row_state(self, index: int) -> dict[str, Any] | None:
        """The tracked state of batch row ``index`` (None when not tracked)."""
        row = self._rows.get(index)
        if row is None:
            return None
        return {"reasoning_tokens": row.parser.reasoning_tokens,
                "budget_exceeded": row.parser.budget_exceeded,
                "pending": list(row.pending), "done": row.done, "n_fed": row.n_fed}
