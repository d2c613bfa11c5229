"""Helpers shared by the engine integrations (vLLM, SGLang): no engine imports here."""

from __future__ import annotations

from typing import Any

import hermes_stream as hs
from hermes_stream.reference.tags import THINK_CLOSE, THINK_OPEN

_THINK_TAGS = (THINK_OPEN, THINK_CLOSE)
_WS = " \t\r\n"


def tool_dicts(tools: Any) -> list[dict[str, Any]] | None:
    """OpenAI tool dicts from an engine's tool objects (pydantic models or dicts), or None.

    Accepts chat-completions tools (``{"type": "function", "function": {...}}``) and flat
    Responses-API function tools (``{"type": "function", "name": ..., "parameters": ...}``)."""
    if not tools:
        return None
    out = []
    for tool in tools:
        d = tool.model_dump(exclude_none=True) if hasattr(tool, "model_dump") else dict(tool)
        fn = d.get("function", d)
        name = fn.get("name")
        if not isinstance(name, str):
            continue
        params = fn.get("parameters")
        out.append({"type": "function", "function": {
            "name": name, "parameters": params if isinstance(params, dict) else {}}})
    return out or None


def tool_set(tools: Any) -> hs.ToolSet | None:
    dicts = tool_dicts(tools)
    return None if dicts is None else hs.ToolSet(dicts)


def split_raw(segments: list[tuple[str, str]]) -> tuple[str, str]:
    """(reasoning, raw content) from a parser's lossless segments: the content keeps every byte
    that is not reasoning or a ``<think>`` / ``</think>`` tag, so ``<tool_call>`` blocks stay in it
    verbatim for a downstream tool parser."""
    reasoning = []
    content = []
    for kind, text in segments:
        if kind == "reasoning":
            reasoning.append(text)
        elif not (kind == "tag" and text in _THINK_TAGS):
            content.append(text)
    return "".join(reasoning), "".join(content)


class ReasoningSplitter:
    """Splits a stream into reasoning and *raw* content (tool-call markup untouched), for an
    engine whose reasoning parser hands the rest of the text to a separate tool parser.

    One ``hs.StreamParser`` does the work. ``feed()`` returns ``(reasoning, raw_content)`` for a
    delta; the stream is in its *content phase* once the parser has produced content-region
    output (content text or a tool-call fragment) after the reasoning, or before any reasoning.
    From the delta that starts the content phase on, ``raw_content`` is the exact text of the
    stream after the last ``</think>`` (or from the start, if there was no reasoning), so a tool
    parser fed with it sees what a single ``hs.StreamParser`` would see after that tag. The cut
    point is found from the parser's segments once, at the switch; every other delta is one native
    ``feed`` call. Text after the switch is not fed here (the engine sends it to the tool parser).

    In the rare delta that holds ``</think>``, answer text *and* a new ``<think>``, the new block's
    reasoning is left to the tool parser (it re-parses the raw text); with
    ``wrap_late_reasoning`` the delta's earlier reasoning goes there too, as ``<think>…</think>``
    (for vLLM, whose ``Parser`` keeps only the tool parser's reasoning for that delta).
    """

    __slots__ = ("_parser", "_raw", "_wrap", "_ws_sent", "done")

    def __init__(self, start_in_reasoning: bool = False, wrap_late_reasoning: bool = False) -> None:
        self._parser = hs.StreamParser(reasoning_budget=None, start_in_reasoning=start_in_reasoning)
        self._raw: list[str] = []  # raw text fed so far (only until the switch)
        self._wrap = wrap_late_reasoning
        self._ws_sent = 0  # leading whitespace already sent as content (before any <think>)
        self.done = False  # in the content phase

    def feed(self, text: str) -> tuple[str, str]:
        if self.done:
            return "", text
        self._raw.append(text)
        d = self._parser.feed(text)
        if not (d.content or d.tool_calls):
            return d.reasoning, ""
        if not d.tool_calls and self._leading_whitespace(d.content):
            # "\n<think>…": whitespace before the first <think> is content (as hs.parse has it)
            # but not yet the answer: the think block that follows is still reasoning.
            self._ws_sent += len(d.content)
            return d.reasoning, d.content
        return self._switch(d.reasoning)

    def _leading_whitespace(self, content: str) -> bool:
        """Whether ``content`` is whitespace before the first ``<think>`` (no answer yet)."""
        if not _is_ws(content):
            return False
        segs = self._parser._segments()
        start = _leading_ws_count(segs)
        if any(_is_content_region(*seg) for seg in segs[start:]):
            return False
        return self._ws_sent + len(content) == sum(len(t) for _, t in segs[:start])

    def finish(self) -> tuple[str, str, Any]:
        """Flush at the end of the stream: (reasoning, content, delta) where ``delta`` is the
        parser's own final delta (content already parsed, for an engine with no tool phase)."""
        if self.done:
            return "", "", None
        d = self._parser.finish()
        self.done = True
        return d.reasoning, d.content, d

    def _switch(self, reasoning: str) -> tuple[str, str]:
        self.done = True
        segs = self._parser._segments()
        # Leading whitespace content before the first <think> is not the answer's start.
        start = _leading_ws_count(segs)
        lead = "".join(t for _, t in segs[:start])
        # The content phase starts after the last think segment before the first content-region
        # segment (or after the last think segment, if no content-region segment is committed
        # yet: a call whose name just streamed).
        first_content = next(
            (i for i in range(start, len(segs)) if _is_content_region(*segs[i])), len(segs))
        cut = start
        for i in range(first_content - 1, start - 1, -1):
            if not _is_content_region(*segs[i]):
                cut = i + 1
                break
        if cut == start:  # no think block before the answer: it starts after what was sent
            pending, offset = "", self._ws_sent
        else:  # after a think block: its leading whitespace not sent yet, then the answer
            pending, offset = lead[self._ws_sent:], sum(len(t) for _, t in segs[:cut])
        # Reasoning this delta emitted after the cut (a "</think>Hi<think>x" delta) is re-parsed
        # by the tool parser from the raw text: do not send it twice.
        later = sum(len(t) for k, t in segs[cut:] if k == "reasoning")
        raw = "".join(self._raw)
        self._raw = []
        if not later:
            return reasoning, pending + raw[offset:]
        reasoning = reasoning[: len(reasoning) - later]
        if self._wrap and reasoning:
            # vLLM keeps only the tool phase's reasoning for such a delta: hand this delta's
            # earlier reasoning to the tool parser too, as a think block it will parse back.
            return "", pending + THINK_OPEN + reasoning + THINK_CLOSE + raw[offset:]
        return reasoning, pending + raw[offset:]


def _leading_ws_count(segs: list[tuple[str, str]]) -> int:
    """How many segments at the start are whitespace-only content."""
    start = 0
    while start < len(segs) and segs[start][0] == "content" and _is_ws(segs[start][1]):
        start += 1
    return start


def _is_ws(text: str) -> bool:
    return not text.strip(_WS)


def _is_content_region(kind: str, text: str) -> bool:
    return kind != "reasoning" and not (kind == "tag" and text in _THINK_TAGS)


class MarkupAsContent:
    """A stream whose tool-call markup stays content (``tool_choice="none"``): reasoning as
    ``hs.StreamParser`` splits it, every other byte (``<tool_call>`` blocks included) as content,
    so the joined output equals :func:`split_raw` of ``hs.parse``'s segments.

    Outside calls each delta is the parser's own (one native ``feed``). While the parser is in a
    call (from the delta that streams its name to the one that commits ``</tool_call>``), the
    content comes from the parser's segments, whose raw text holds the markup: those deltas cost
    O(text so far), the others O(delta)."""

    __slots__ = ("_parser", "_sent", "_exact")

    def __init__(self, start_in_reasoning: bool = False) -> None:
        self._parser = hs.StreamParser(reasoning_budget=None, start_in_reasoning=start_in_reasoning)
        self._sent = 0  # content characters sent so far
        self._exact = False  # a call appeared: content from the segments from now on

    @property
    def finished(self) -> bool:
        return bool(self._parser.finished)

    def feed(self, text: str) -> tuple[str, str]:
        return self._out(self._parser.feed(text))

    def finish(self) -> tuple[str, str]:
        if self._parser.finished:
            return "", ""
        return self._out(self._parser.finish())

    def _out(self, d: Any) -> tuple[str, str]:
        if d.tool_calls:
            self._exact = True
        if not self._exact:
            self._sent += len(d.content)
            return d.reasoning, d.content
        segs = self._parser._segments()
        _, content = split_raw(segs)
        new = content[self._sent:]
        self._sent = len(content)
        if segs and segs[-1][0] != "tool_call" and segs[-1] != ("tag", "<tool_call>"):
            self._exact = False  # the call is closed: back to the parser's own deltas
        return d.reasoning, new


# -- prompt state and the reasoning budget (engine-neutral: used by the SGLang processor) -------

#: Tokens that start or end a turn in Hermes 4's ChatML and Llama-3 templates.
TURN_TOKENS = ("<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|eot_id|>")


def turn_ids(vocab: hs.Vocab) -> frozenset[int]:
    """The ids of the turn-boundary tokens of ``vocab`` (special / added tokens)."""
    wanted = {t.encode() for t in TURN_TOKENS}
    ids = vocab.special_ids | vocab.added_ids
    return frozenset(i for i in ids if vocab.pieces[i] in wanted)


def prompt_opens_reasoning(prompt_ids: Any, vocab: hs.Vocab, turns: frozenset[int]) -> bool:
    """Whether the *final turn* of the prompt leaves ``<think>`` open (SPEC §4.2).

    Only the ids after the last turn-boundary id are read (decoded to bytes and parsed, so
    multi-token tags of the Llama-3 vocabulary count the same as Qwen3's single tokens): the
    ``<think> </think>`` text of Hermes 4's thinking system prompt is an earlier turn."""
    i = len(prompt_ids) - 1
    while i >= 0 and prompt_ids[i] not in turns:
        i -= 1
    tail = list(prompt_ids[i + 1:])
    if not tail:
        return False
    try:
        data = vocab.decode(tail)
    except ValueError:  # an id the vocabulary does not know: not a Hermes prompt tail
        return False
    p = hs.StreamParser(reasoning_budget=None, keep_message=True)
    p.feed_bytes(data)
    segs = p._segments()
    if not segs:
        return False
    kind, text = segs[-1]
    return kind == "reasoning" or (kind == "tag" and text == THINK_OPEN)


class BudgetRow:
    """The reasoning-budget state of one generating sequence, engine-neutral.

    One ``hs.StreamParser`` (``keep_message=False``) is fed the sequence's output ids one by one
    (``feed_tokens``: the exact counting rule); when a delta reports ``forced``, its
    ``token_ids`` are queued and :meth:`step` returns them one per step, as the id to force; the
    forced ids are fed back like any generated id (the parser is already in content, so the
    model's ``</think>`` among them is absorbed). If the sampled id is not the forced one
    (another processor overrode it), the rest of that forced sequence is dropped. After an
    end-of-turn id the row is done. Any forcing the parser reports is followed, so a parser
    option that forces (``loop_guard`` with ``on_loop="close"``) works the same way.
    """

    __slots__ = ("parser", "pending", "n_fed", "done", "forced_at")

    def __init__(self, vocab: hs.Vocab, **parser_kwargs: Any) -> None:
        self.parser = hs.StreamParser(vocab=vocab, keep_message=False, **parser_kwargs)
        self.pending: list[int] = []  # forced ids still to emit, next one first
        self.n_fed = 0  # output ids fed so far
        self.done = False
        self.forced_at: list[int] = []  # output offsets where forced ids start
        self._after(self.parser.feed_tokens([]))  # budget 0 in prompt-opened thinking

    def step(self, output_ids: Any) -> int | None:
        """Feed the output ids not seen yet; the id to force at this step, or None."""
        n = len(output_ids)
        if n > self.n_fed:
            for tid in output_ids[self.n_fed:]:
                if self.done:
                    break
                self._feed(int(tid))
        self.n_fed = max(self.n_fed, n)
        return self.pending[0] if self.pending and not self.done else None

    def _feed(self, tid: int) -> None:
        pending = self.pending
        if pending:
            if tid == pending[0]:
                del pending[0]
            else:
                pending.clear()
        try:
            d = self.parser.feed_tokens(tid)
        except ValueError:  # an id with no token (padded logits): one token of no text
            d = self.parser.feed("", n_tokens=1)
        self.n_fed += 1
        if self.parser.finished:  # end of turn
            self.done = True
            pending.clear()
            return
        self._after(d)

    def _after(self, d: Any) -> None:
        forced = d.forced
        if forced is not None and forced.token_ids:
            self.forced_at.append(self.n_fed + len(self.pending))
            self.pending.extend(forced.token_ids)
