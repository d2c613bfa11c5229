"""vLLM plugins: a reasoning parser and a tool parser backed by ``hs.StreamParser``.

Importing this module (it imports ``vllm``) registers both under the name ``hermes_stream``::

    vllm serve NousResearch/Hermes-4-14B \\
        --reasoning-parser-plugin hermes_stream.integrations.vllm --reasoning-parser hermes_stream \\
        --enable-auto-tool-choice \\
        --tool-parser-plugin hermes_stream.integrations.vllm --tool-call-parser hermes_stream

They implement vLLM's legacy parser interfaces (``vllm.reasoning.ReasoningParser`` and
``vllm.tool_parsers.ToolParser``), which vLLM (0.33) composes into the ``Parser`` its server
creates for each request, so each instance here serves one request and owns its own
``hs.StreamParser``. Both declare ``engine_based_streaming``: vLLM then passes only the new text
(no ``previous_text + delta_text`` copy per step) and calls ``finish_streaming()`` at the end.
Either way only ``delta_text`` is read, so a call costs O(delta) whatever vLLM passes.

* ``HermesStreamReasoningParser`` splits reasoning from the answer. When the answer starts it
  hands vLLM the exact raw text after ``</think>`` (tool-call markup untouched) for the tool phase.
* ``HermesStreamToolParser`` runs a full ``hs.StreamParser`` over what it is given: content,
  tool-call deltas streamed as their bytes arrive (the joined argument fragments equal the final
  arguments), names checked against the request's tools, and any later ``<think>`` block as
  reasoning. Used alone (no reasoning parser) it also splits the reasoning itself.

Used together, the streamed reasoning, content and tool calls equal ``hs.StreamParser``'s on the
whole output (``tests/python/test_vllm.py`` checks it through vLLM's own ``ParserManager`` /
``Parser.parse_delta``). Differences from vLLM's ``hermes`` / ``deepseek_r1`` parsers, all by
design: arguments are the model's bytes, not re-serialised JSON; a ``<tool_call>`` that is not a
call stays content; calls to tools the request did not declare are not streamed; text around calls
is content; ``prev_tool_call_arr`` / ``streamed_args_for_tool`` stay empty because nothing is ever
left unstreamed at the end.

Reasoning end by token id (``is_reasoning_end``, used on the prompt and by structured outputs):
the last ``</think>`` / ``<think>`` id *in the final turn* decides, so the ``<think> </think>``
text of Hermes 4's thinking system prompt does not count as closed reasoning. A prompt ending in
an open ``<think>`` starts the parser in reasoning, streaming (``adjust_initial_state_from_prompt``)
and non-streaming (``set_prompt_token_ids``, vLLM 0.33); with a multi-token ``<think>`` (Llama-3)
the final turn's ids are decoded and parsed.

Request options: ``tool_choice="none"`` keeps tool-call markup as content (vLLM drops
``tool_calls`` then, and defaults requests without tools to it); ``"required"`` and named tools
run through this parser as for ``"auto"`` (``supports_required_and_named = False``), so the calls
stream. Whitespace before the first ``<think>`` is content and the think block stays reasoning.
Without a reasoning parser, the non-streaming result keeps think blocks verbatim in the content
(vLLM's result has no reasoning field for the tool parser to fill).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from vllm.entrypoints.generate.base.protocol import (
    DeltaFunctionCall,
    DeltaMessage,
    DeltaToolCall,
    ExtractedToolCallInformation,
    FunctionCall,
    ToolCall,
)
from vllm.reasoning import ReasoningParser, ReasoningParserManager
from vllm.tool_parsers import ToolParser, ToolParserManager

import hermes_stream as hs

from ..reference.tags import THINK_CLOSE, THINK_OPEN
from ._common import (
    MarkupAsContent,
    ReasoningSplitter,
    prompt_opens_reasoning,
    split_raw,
    tool_set,
    turn_ids,
)
from .transformers import as_vocab

__all__ = ["NAME", "HermesStreamReasoningParser", "HermesStreamToolParser", "to_delta_message"]

NAME = "hermes_stream"

#: Tokens that start a turn (or end one) in Hermes 4's ChatML and Llama-3 templates.
_TURN_TOKENS = ("<|im_start|>", "<|im_end|>", "<|start_header_id|>", "<|eot_id|>")
_IDS_CACHE: dict[int, tuple[Any, int | None, int | None, frozenset[int]]] = {}
_VOCAB_CACHE: dict[int, tuple[Any, Any, frozenset[int]]] = {}


def _vocab_of(tokenizer: Any) -> tuple[Any, frozenset[int]] | None:
    """(hs.Vocab, turn-boundary ids) of a tokenizer whose ``<think>`` is several tokens
    (Llama-3), cached per tokenizer object; None when no Vocab can be built from it."""
    hit = _VOCAB_CACHE.get(id(tokenizer))
    if hit is not None and hit[0] is tokenizer:
        return hit[1], hit[2]
    try:
        vocab = as_vocab(tokenizer)
    except (TypeError, ValueError):
        return None
    _VOCAB_CACHE[id(tokenizer)] = (tokenizer, vocab, turn_ids(vocab))
    return vocab, turn_ids(vocab)


def _special_ids(tokenizer: Any) -> tuple[int | None, int | None, frozenset[int]]:
    """(<think> id, </think> id, turn-boundary ids) of a tokenizer; cached per tokenizer object
    (a vocabulary dict is built once per tokenizer, not once per request)."""
    hit = _IDS_CACHE.get(id(tokenizer))
    if hit is not None and hit[0] is tokenizer:
        return hit[1], hit[2], hit[3]
    vocab = tokenizer.get_vocab()
    ids = (vocab.get(THINK_OPEN), vocab.get(THINK_CLOSE),
           frozenset(vocab[t] for t in _TURN_TOKENS if t in vocab))
    _IDS_CACHE[id(tokenizer)] = (tokenizer, *ids)
    return ids


def to_delta_message(d: Any) -> DeltaMessage | None:
    """An ``hs.Delta`` as vLLM's ``DeltaMessage`` (None when the delta is empty)."""
    if not d:
        return None
    calls = [
        DeltaToolCall(
            index=tc.index,
            id=tc.id,
            type="function" if tc.id is not None else None,
            function=DeltaFunctionCall(name=tc.name, arguments=tc.arguments or None),
        )
        for tc in d.tool_calls
    ]
    return DeltaMessage(reasoning=d.reasoning or None, content=d.content or None, tool_calls=calls)


class HermesStreamReasoningParser(ReasoningParser):
    """vLLM reasoning parser: ``<think>`` … ``</think>`` split by ``hs.StreamParser``."""

    engine_based_streaming = True

    def __init__(self, tokenizer: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(tokenizer, *args, **kwargs)
        self._start_id, self._end_id, self._turn_ids = _special_ids(tokenizer)
        self._start_in_reasoning = False
        self._splitter: ReasoningSplitter | None = None  # made on the first streamed delta

    # -- interface: strings and token ids -------------------------------------------------
    @property
    def reasoning_start_str(self) -> str:
        return THINK_OPEN

    @property
    def reasoning_end_str(self) -> str:
        return THINK_CLOSE

    def _last_think_tag(self, input_ids: Sequence[int]) -> int | None:
        """The last <think> / </think> id in the final turn of ``input_ids`` (None if none)."""
        start, end, turns = self._start_id, self._end_id, self._turn_ids
        for i in range(len(input_ids) - 1, -1, -1):
            t = input_ids[i]
            if t == start or t == end:
                return t
            if t in turns:
                return None
        return None

    def is_reasoning_end(self, input_ids: Sequence[int]) -> bool:
        if self._end_id is None:
            return False
        return self._last_think_tag(input_ids) == self._end_id

    def is_reasoning_end_streaming(self, input_ids: Sequence[int], delta_ids: Iterable[int]) -> bool:
        return self._end_id is not None and self._end_id in delta_ids

    def extract_content_ids(self, input_ids: list[int]) -> list[int]:
        end = self._end_id
        if end is None or end not in input_ids[:-1]:
            return []
        return input_ids[input_ids.index(end) + 1:]

    def count_reasoning_tokens(self, token_ids: Sequence[int]) -> int:
        start, end = self._start_id, self._end_id
        count = depth = 0
        for t in token_ids:
            if t == start:
                depth += 1
            elif t == end:
                depth = max(depth - 1, 0)
            elif depth:
                count += 1
        return count

    def adjust_initial_state_from_prompt(self, prompt_token_ids: Sequence[int]) -> None:
        if self._splitter is None:
            self._start_in_reasoning = self._prompt_opens_reasoning(prompt_token_ids)

    def set_prompt_token_ids(self, prompt_token_ids: Sequence[int]) -> None:
        """vLLM 0.33 passes the prompt here before ``parse`` (non-streaming) and before the first
        streamed delta: a final turn that opened ``<think>`` starts the parser in reasoning."""
        self.adjust_initial_state_from_prompt(prompt_token_ids)

    def _prompt_opens_reasoning(self, prompt_token_ids: Sequence[int]) -> bool:
        if self._start_id is not None:  # <think> is one token (Qwen3): read the ids
            return self._last_think_tag(prompt_token_ids) == self._start_id
        found = _vocab_of(self.model_tokenizer)  # several tokens (Llama-3): decode the final turn
        return found is not None and prompt_opens_reasoning(prompt_token_ids, *found)

    # -- non-streaming --------------------------------------------------------------------
    def extract_reasoning(self, model_output: str, request: Any) -> tuple[str | None, str | None]:
        p = hs.StreamParser(reasoning_budget=None, start_in_reasoning=self._start_in_reasoning)
        p.feed(model_output)
        p.finish()
        reasoning, content = split_raw(p._segments())
        return reasoning or None, content or None

    # -- streaming ------------------------------------------------------------------------
    def extract_reasoning_streaming(
        self,
        previous_text: str,
        current_text: str,
        delta_text: str,
        previous_token_ids: Sequence[int],
        current_token_ids: Sequence[int],
        delta_token_ids: Sequence[int],
    ) -> DeltaMessage | None:
        s = self._splitter
        if s is None:
            s = self._splitter = ReasoningSplitter(self._start_in_reasoning, wrap_late_reasoning=True)
        reasoning, content = s.feed(delta_text)
        if not (reasoning or content):
            return None
        return DeltaMessage(reasoning=reasoning or None, content=content or None)

    def has_engine_confirmed_reasoning_end(self) -> bool:
        return self._splitter is not None and self._splitter.done

    def finish_streaming(self) -> DeltaMessage | None:
        """The end of the stream (or the switch to the answer, where nothing is pending)."""
        s = self._splitter
        if s is None:
            return None
        reasoning, content, _ = s.finish()
        if not (reasoning or content):
            return None
        return DeltaMessage(reasoning=reasoning or None, content=content or None)


class HermesStreamToolParser(ToolParser):
    """vLLM tool parser: Hermes ``<tool_call>`` blocks streamed by ``hs.StreamParser``."""

    engine_based_streaming = True
    structural_tag_model = "hermes"
    #: ``tool_choice="required"`` / a named tool: vLLM calls this parser as for "auto" (the
    #: structural tag, when on, makes the model write Hermes ``<tool_call>`` blocks), so the
    #: calls stream; vLLM's JSON-list path would find nothing in Hermes output.
    supports_required_and_named = False

    def __init__(self, tokenizer: Any, tools: Any = None, **kwargs: Any) -> None:
        super().__init__(tokenizer, tools)
        self._tools = tool_set(self.tools)
        self._parser: Any = None  # made on the first streamed delta
        self._raw: MarkupAsContent | None = None  # tool_choice="none": markup stays content

    def adjust_request(self, request: Any) -> Any:
        request = super().adjust_request(request)
        if request.tools and request.tool_choice != "none":
            # <tool_call> may be a special token; the parser must see it (as vLLM's hermes does).
            request.skip_special_tokens = False
        return request

    # -- non-streaming --------------------------------------------------------------------
    def extract_tool_calls(self, model_output: str, request: Any) -> ExtractedToolCallInformation:
        if _choice_none(request):  # vLLM keeps only .content: the markup stays in it
            return ExtractedToolCallInformation(tools_called=False, tool_calls=[],
                                                content=model_output or None)
        msg = hs.parse(model_output, tools=self._tools, reasoning_budget=None)
        calls = [
            ToolCall(id=c.id, type="function",
                     function=FunctionCall(id=c.id, name=c.name, arguments=c.arguments))
            for c in msg.tool_calls
            if c.error is None
        ]
        content = msg.content
        if msg.reasoning:
            # Only without a reasoning parser does the text still hold think blocks, and
            # vLLM's non-streaming result has no reasoning field then: keep them verbatim.
            content = "".join(t for k, t in ((seg.kind, seg.text) for seg in msg.segments) if k != "tool_call"
                              and not (k == "tag" and t not in (THINK_OPEN, THINK_CLOSE)))
        return ExtractedToolCallInformation(
            tools_called=bool(calls), tool_calls=calls, content=content or None
        )

    # -- streaming ------------------------------------------------------------------------
    def extract_tool_calls_streaming(
        self,
        previous_text: str,
        current_text: str,
        delta_text: str,
        previous_token_ids: Sequence[int],
        current_token_ids: Sequence[int],
        delta_token_ids: Sequence[int],
        request: Any,
    ) -> DeltaMessage | None:
        p = self._parser
        if p is None:
            if _choice_none(request):
                p = self._parser = self._raw = MarkupAsContent()
            else:
                p = self._parser = hs.StreamParser(tools=self._tools, reasoning_budget=None)
        if p.finished:
            return None
        if self._raw is not None:
            return _text_message(*self._raw.feed(delta_text))
        return to_delta_message(p.feed(delta_text))

    def finish_streaming(self) -> DeltaMessage | None:
        p = self._parser
        if p is None or p.finished:
            return None
        if self._raw is not None:
            return _text_message(*self._raw.finish())
        return to_delta_message(p.finish())


def _choice_none(request: Any) -> bool:
    return getattr(request, "tool_choice", None) == "none"


def _text_message(reasoning: str, content: str) -> DeltaMessage | None:
    if not (reasoning or content):
        return None
    return DeltaMessage(reasoning=reasoning or None, content=content or None)


# Eager registration: works however the module was imported (module name or file path).
ReasoningParserManager.register_module(NAME, module=HermesStreamReasoningParser)
ToolParserManager.register_module(NAME, module=HermesStreamToolParser)

# The reasoning-budget logits processor, loadable as
# ``--logits-processors hermes_stream.integrations.vllm:ReasoningBudgetLogitsProcessor``.
# (The explicit ``X as X`` form marks the re-export for ruff's F401 and mypy.)
from .vllm_budget import (  # noqa: E402
    ReasoningBudgetLogitsProcessor as ReasoningBudgetLogitsProcessor,
)

__all__.append("ReasoningBudgetLogitsProcessor")
