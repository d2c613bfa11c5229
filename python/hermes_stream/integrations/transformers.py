"""Hugging Face ``transformers`` integration: a reasoning-budget logits processor and a streamer.

    >>> from hermes_stream.integrations.transformers import ReasoningBudgetProcessor, DeltaStreamer
    >>> budget = ReasoningBudgetProcessor(tokenizer, 1024, start_in_reasoning=True)  # doctest: +SKIP
    >>> streamer = budget.make_streamer(timeout=30)                                   # doctest: +SKIP
    >>> thread = Thread(target=model.generate, kwargs=dict(
    ...     **inputs, logits_processor=[budget], streamer=streamer, max_new_tokens=2048))  # doctest: +SKIP
    >>> for delta in streamer: print(delta.to_openai())                               # doctest: +SKIP

:class:`ReasoningBudgetProcessor` runs one native :class:`hermes_stream.StreamParser` per batch row
on the ids that row generates, so the parser is the single source of truth for what counts as a
reasoning token (SPEC rule 13: a token counts when the parser is inside reasoning at its first
byte). When the parser reports a forced close (``Delta.forced``), the processor makes the model
emit ``ForcedClose.token_ids``, one per step, by setting every other logit to ``-inf``. The forced
ids are then fed to the parser like any generated id: it is already in content, so the ``</think>``
among them is absorbed as a ``tag`` segment exactly as when a server appends the close text and
the model repeats it. Parsing the returned ids afterwards with the same options therefore gives
the same forced close at the same place.

Choices:

* Only generated ids are fed. At the first call of a generation the whole of ``input_ids`` is the
  prompt (with left padding every row has the same width); ``prompt_lengths`` (an int or one int
  per row) says instead that only the first N columns of that first ``input_ids`` are prompt and
  the rest were already generated (they are fed, one token at a time, before the first step).
* With ``start_in_reasoning=True`` the prompt opened ``<think>``; ``reasoning_budget=0`` then
  forces the close as the very first generated ids.
* A row ends at an end-of-turn id of the vocabulary (``Vocab.eot_ids``: the tokenizer's eos,
  ``<|im_end|>``, ``<|endoftext|>``, ...) or at one of ``eos_token_id``; after that it is never fed
  nor forced again (``generate`` pads it).
* The forcing is the only intervention: afterwards the processor stands aside and the model
  writes what it wants. If the model opens ``<think>`` again after the budget is spent, the parser
  closes it at once (budget rule) and the processor forces that close too, so the model's token
  stream and the parser never disagree.
* If the sampled id differs from the expected forced id (another processor placed after this one
  overrode it), the rest of that forced sequence is dropped.
* A new generation is detected when ``input_ids`` does not continue the last call's (length + 1
  with the same previous column) or the batch size changes; :meth:`reset` does it explicitly.
  Calling ``generate`` repeatedly with ``max_new_tokens=1`` on the growing sequence therefore
  continues the same state.
* ``loop_guard`` (an ``hs.LoopGuard``, or a request value for :meth:`hs.LoopGuard.from_request`
  such as ``True`` / ``"close"`` / a dict) gives every row's parser the loop guard (token units).
  With ``on_loop="close"`` a row whose reasoning ends in a degenerate repetition gets the same
  forced close as at the budget, at the token that completes the repetition; :attr:`loops`
  lists each row's detections (also in ``report`` mode, which forces nothing).
* Cost per step: one device-to-host copy of the last two columns (``batch * 2`` ids) and one
  native ``feed_tokens`` per live row; ``scores`` is only copied on steps that force a row (the
  caller's tensor is never modified, so ``output_logits`` stay raw).
* Supported: greedy and sampling decoding (any batch size, ``num_return_sequences``). Not
  supported: beam search and assisted/speculative decoding, which reorder or rewind rows.

:class:`DeltaStreamer` is a ``transformers`` streamer (batch size 1): it skips the prompt (the first
``put``), feeds every generated id to a :class:`~hermes_stream.StreamParser` and yields
:class:`hermes_stream.Delta` objects from a queue, like ``TextIteratorStreamer`` yields text.

``torch`` is only imported when the processor is first called; ``transformers`` (for the base
classes) when this module is imported, if it is installed. ``import hermes_stream`` imports
neither.
"""

from __future__ import annotations

import os
import queue
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .._options import DEFAULT_CLOSE_TEXT, LoopGuard
from .._parser import StreamParser
from .._types import Message
from .._vocab import Vocab

try:  # the base classes, when transformers is there (it imports torch)
    from transformers.generation.logits_process import LogitsProcessor as _LogitsProcessorBase
except ImportError:  # pragma: no cover - transformers absent: a plain callable still works
    _LogitsProcessorBase = object

try:
    from transformers.generation.streamers import BaseStreamer as _BaseStreamer
except ImportError:  # pragma: no cover
    _BaseStreamer = object

__all__ = ["DeltaStreamer", "ReasoningBudgetProcessor", "as_vocab"]


def as_vocab(vocab_or_tokenizer: Any) -> Vocab:
    """An :class:`hermes_stream.Vocab` from a ``Vocab``, a ``transformers`` fast tokenizer, a
    ``tokenizers.Tokenizer`` or the path of a ``tokenizer.json``."""
    if isinstance(vocab_or_tokenizer, Vocab):
        return vocab_or_tokenizer
    if isinstance(vocab_or_tokenizer, (str, os.PathLike)):
        return Vocab.from_file(vocab_or_tokenizer)
    if getattr(vocab_or_tokenizer, "backend_tokenizer", None) is not None:
        return Vocab.from_tokenizer(vocab_or_tokenizer)
    if hasattr(vocab_or_tokenizer, "to_str"):
        return Vocab.from_tokenizers(vocab_or_tokenizer)
    raise TypeError(
        "expected a hermes_stream.Vocab, a transformers fast tokenizer, a tokenizers.Tokenizer or "
        f"a tokenizer.json path, got {type(vocab_or_tokenizer).__name__}"
    )


def _id_set(ids: int | Iterable[int] | None, name: str) -> frozenset[int]:
    if ids is None:
        return frozenset()
    if isinstance(ids, int) and not isinstance(ids, bool):
        return frozenset((ids,))
    out = []
    for i in ids:  # type: ignore[union-attr]
        if isinstance(i, bool) or not isinstance(i, int):
            raise TypeError(f"{name} must be an int or a list of ints, got an item {i!r}")
        out.append(i)
    return frozenset(out)


_torch: Any = None


def _import_torch() -> Any:
    global _torch
    if _torch is None:
        import torch

        _torch = torch
    return _torch


class _Row:
    """One batch row: its parser and the forced ids still to emit."""

    __slots__ = ("parser", "pending", "done", "n_fed", "forced_at", "loops")

    def __init__(self, parser: StreamParser) -> None:
        self.parser = parser
        self.pending: list[int] = []  # forced ids still to emit, next one first
        self.done = False
        self.n_fed = 0  # generated ids fed so far
        self.forced_at: list[int] = []
        self.loops: list[Any] = []  # LoopInfo of the loop guard's detections


class ReasoningBudgetProcessor(_LogitsProcessorBase):
    """Force the close of reasoning after ``reasoning_budget`` reasoning tokens, per batch row.

    Args:
        vocab_or_tokenizer: ``hs.Vocab``, a fast tokenizer, a ``tokenizers.Tokenizer`` or a
            ``tokenizer.json`` path. Its ids must be the model's ids.
        reasoning_budget: reasoning tokens before the forced close; ``None`` never forces.
        start_in_reasoning: the prompt already opened ``<think>``.
        budget_close_text: the text forced at the budget (encoded with the vocabulary).
        prompt_lengths: how many leading columns of the first ``input_ids`` of a generation are
            prompt, as one int or one per row; default: all of them.
        eos_token_id: extra ids that end a row (the vocabulary's end-of-turn ids always do).
        loop_guard: an ``hs.LoopGuard`` (or a value for ``hs.LoopGuard.from_request``) for every
            row; ``on_loop="close"`` forces the close when a row's reasoning loops.

    After ``generate``, :attr:`forced_positions` gives, per row, the offsets in that row's
    generated ids (``output[row, prompt_width:]``) where forced close ids start.
    """

    def __init__(
        self,
        vocab_or_tokenizer: Any,
        reasoning_budget: int | None,
        *,
        start_in_reasoning: bool = False,
        budget_close_text: str = DEFAULT_CLOSE_TEXT,
        prompt_lengths: int | Sequence[int] | None = None,
        eos_token_id: int | Iterable[int] | None = None,
        loop_guard: LoopGuard | bool | str | dict[str, Any] | None = None,
    ) -> None:
        self.vocab = as_vocab(vocab_or_tokenizer)
        guard = LoopGuard.from_request(loop_guard)
        self._parser_options: dict[str, Any] = dict(
            reasoning_budget=reasoning_budget,
            start_in_reasoning=start_in_reasoning,
            budget_close_text=budget_close_text,
        )
        if guard is not None:
            self._parser_options["loop_guard"] = guard
        # Checks every option now (bad budget, close text the vocabulary cannot encode, ...).
        StreamParser(vocab=self.vocab, keep_message=False, **self._parser_options)
        if prompt_lengths is not None:
            lengths = [prompt_lengths] if isinstance(prompt_lengths, int) else list(prompt_lengths)
            for n in lengths:
                if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                    raise ValueError(f"prompt_lengths must hold ints >= 0, got {n!r}")
        self.prompt_lengths = prompt_lengths
        self.eos_token_ids = _id_set(eos_token_id, "eos_token_id")
        self._active = reasoning_budget is not None or guard is not None
        self.reset()

    # -- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the current generation; the next call starts a new one."""
        self._rows: list[_Row] = []
        self._len = -1  # input_ids width at the last call
        self._last: list[int] = []  # last column at the last call

    @property
    def forced_positions(self) -> list[list[int]]:
        """Per row of the last generation: offsets in the generated ids where forcing began."""
        return [list(r.forced_at) for r in self._rows]

    @property
    def loops(self) -> list[list[Any]]:
        """Per row of the last generation: the loop guard's detections (``hs.LoopInfo``)."""
        return [list(r.loops) for r in self._rows]

    @property
    def parser_options(self) -> dict[str, Any]:
        """The options of the per-row parsers (to parse the output the same way)."""
        return dict(self._parser_options)

    def make_streamer(self, **options: Any) -> DeltaStreamer:
        """A :class:`DeltaStreamer` with this processor's vocabulary and parser options."""
        return DeltaStreamer(self.vocab, **{**self._parser_options, **options})

    def _start(self, ids: list[list[int]] | None, n: int, width: int) -> None:
        if ids is None or self.prompt_lengths is None:
            starts = [width] * n
        elif isinstance(self.prompt_lengths, int):
            starts = [self.prompt_lengths] * n
        else:
            starts = list(self.prompt_lengths)
            if len(starts) != n:
                raise ValueError(
                    f"prompt_lengths has {len(starts)} entries but the batch has {n} rows"
                )
        if any(s > width for s in starts):
            raise ValueError(
                f"prompt_lengths {self.prompt_lengths!r} exceed the input width {width}"
            )
        self._rows = []
        for i, start in enumerate(starts):
            row = _Row(StreamParser(vocab=self.vocab, keep_message=False, **self._parser_options))
            self._rows.append(row)
            # An empty feed reports a close due before any generated id (budget 0 with
            # start_in_reasoning); then the already generated ids, if any, one by one.
            self._after_feed(row, row.parser.feed_tokens([]))
            if ids is not None:
                for tid in ids[i][start:]:
                    self._feed(row, tid)

    def _feed(self, row: _Row, tid: int) -> None:
        if row.done:
            return
        pending = row.pending
        if pending:
            if tid == pending[0]:
                del pending[0]
            else:  # overridden after us: give up this forced sequence
                pending.clear()
        if tid in self.eos_token_ids:
            row.done = True
            return
        try:
            delta = row.parser.feed_tokens(tid)
        except ValueError as exc:
            raise ValueError(
                f"ReasoningBudgetProcessor: generated id {tid} is not in the vocabulary "
                f"({len(self.vocab)} ids); pass the model's tokenizer"
            ) from exc
        row.n_fed += 1
        if row.parser.finished:  # end of turn
            row.done = True
            pending.clear()
            return
        self._after_feed(row, delta)

    @staticmethod
    def _after_feed(row: _Row, delta: Any) -> None:
        if delta.loop is not None:
            row.loops.append(delta.loop)
        forced = delta.forced
        if forced is not None and forced.token_ids:
            row.forced_at.append(row.n_fed + len(row.pending))
            row.pending.extend(forced.token_ids)

    # -- the processor ------------------------------------------------------------------------

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if not self._active:
            return scores
        n, width = input_ids.shape[0], input_ids.shape[1]
        rows = self._rows
        if rows and n == len(rows) and width == self._len + 1:
            tail = input_ids[:, -2:].tolist()
            if all(t[0] == last for t, last in zip(tail, self._last)):
                for row, t in zip(rows, tail):
                    self._feed(row, t[1])
                self._last = [t[1] for t in tail]
            else:
                rows = []
        else:
            rows = []
        if not rows:  # a new generation
            # Without prompt_lengths only the last column is needed (the prompt is not fed).
            ids = input_ids.tolist() if self.prompt_lengths is not None else None
            last = input_ids[:, -1].tolist() if width else [-1] * n
            self._start(ids, n, width)
            self._last = last
            rows = self._rows
        self._len = width

        forced = [(i, r.pending[0]) for i, r in enumerate(rows) if r.pending and not r.done]
        if not forced:
            return scores
        torch = _import_torch()
        n_vocab = scores.shape[-1]
        scores = scores.clone()  # never modify the caller's tensor (raw logits may be kept)
        for i, tid in forced:
            if tid >= n_vocab:
                raise ValueError(
                    f"forced close id {tid} is outside the model's {n_vocab} logits"
                )
            scores[i].fill_(-torch.inf)
            scores[i, tid] = 0.0
        return scores


class _StreamError:
    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class DeltaStreamer(_BaseStreamer):
    """A ``generate`` streamer (batch size 1) yielding :class:`hermes_stream.Delta` objects.

    The first ``put`` (the prompt) is skipped; every later id goes to a
    :class:`~hermes_stream.StreamParser` built with ``parser_options`` (``reasoning_budget``,
    ``start_in_reasoning``, ``tools``, ...; use the processor's options, e.g. through
    :meth:`ReasoningBudgetProcessor.make_streamer`). Non-empty deltas are queued; iterating
    the streamer (typically while ``generate`` runs in another thread) yields them until
    ``end()``, whose ``finish()`` delta comes last. ``timeout`` (seconds) bounds each wait for
    a delta (``queue.Empty`` is raised past it), as in ``TextIteratorStreamer``. An exception
    raised while parsing is raised in ``generate`` and again by the iterator.

    :attr:`message` is the parser's message (final after ``end()``).
    """

    def __init__(self, vocab_or_tokenizer: Any, *, timeout: float | None = None,
                 **parser_options: Any) -> None:
        self.vocab = as_vocab(vocab_or_tokenizer)
        self.parser = StreamParser(vocab=self.vocab, **parser_options)
        self.timeout = timeout
        self.deltas: queue.Queue[Any] = queue.Queue()
        self._stop = object()
        self._prompt_next = True
        self._ended = False

    @property
    def message(self) -> Message:
        return self.parser.message

    @property
    def ended(self) -> bool:
        return self._ended

    def put(self, value: Any) -> None:
        if self._ended:
            raise RuntimeError("DeltaStreamer.put() after end(): use a new streamer per generation")
        try:
            ids = _batch1_ids(value, prompt=self._prompt_next)
            if self._prompt_next:
                self._prompt_next = False
                return
            if self.parser.finished or not ids:  # after an end-of-turn id: generate pads
                return
            delta = self.parser.feed_tokens(ids)
        except Exception as exc:
            self.deltas.put(_StreamError(exc), timeout=self.timeout)
            raise
        if delta:
            self.deltas.put(delta, timeout=self.timeout)

    def end(self) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            delta = self.parser.finish()
        except Exception as exc:
            self.deltas.put(_StreamError(exc), timeout=self.timeout)
            self.deltas.put(self._stop, timeout=self.timeout)
            raise
        if delta:
            self.deltas.put(delta, timeout=self.timeout)
        self.deltas.put(self._stop, timeout=self.timeout)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        item = self.deltas.get(timeout=self.timeout)
        if item is self._stop:
            self.deltas.put(self._stop)  # later next() calls stop too
            raise StopIteration
        if isinstance(item, _StreamError):
            raise item.exc
        return item


def _batch1_ids(value: Any, prompt: bool = False) -> list[int]:
    """The ids of a ``put`` value (tensor or list): ``(1, n)``, or ``(1,)`` for one step (a
    1-D prompt may be longer); more than one row raises."""
    data = value.tolist() if hasattr(value, "tolist") else list(value)
    if data and isinstance(data[0], list):
        if len(data) != 1:
            raise ValueError(f"DeltaStreamer supports batch size 1 only, got {len(data)} rows")
        return data[0]
    if len(data) > 1 and not prompt:
        raise ValueError(
            f"DeltaStreamer supports batch size 1 only, got {len(data)} ids in one step"
        )
    return data
