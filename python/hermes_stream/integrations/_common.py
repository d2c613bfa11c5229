"""Helpers shared by the engine integrations (vLLM, SGLang): no engine imports here."""

from __future__ import annotations

from typing import Any

import hermes_stream as hs

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_THINK_TAGS = (THINK_OPEN, THINK_CLOSE)


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

    __slots__ = ("_parser", "_raw", "_wrap", "done")

    def __init__(self, start_in_reasoning: bool = False, wrap_late_reasoning: bool = False) -> None:
        self._parser = hs.StreamParser(reasoning_budget=None, start_in_reasoning=start_in_reasoning)
        self._raw: list[str] = []  # raw text fed so far (only until the switch)
        self._wrap = wrap_late_reasoning
        self.done = False  # in the content phase

    def feed(self, text: str) -> tuple[str, str]:
        if self.done:
            return "", text
        self._raw.append(text)
        d = self._parser.feed(text)
        if not (d.content or d.tool_calls):
            return d.reasoning, ""
        return self._switch(d.reasoning)

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
        # The content phase starts after the last think segment before the first content-region
        # segment (or after the last think segment, if no content-region segment is committed
        # yet: a call whose name just streamed).
        first_content = next((i for i, (k, t) in enumerate(segs) if _is_content_region(k, t)),
                             len(segs))
        cut = 0
        for i in range(first_content - 1, -1, -1):
            if not _is_content_region(*segs[i]):
                cut = i + 1
                break
        offset = sum(len(t) for _, t in segs[:cut])
        # Reasoning this delta emitted after the cut (a "</think>Hi<think>x" delta) is re-parsed
        # by the tool parser from the raw text: do not send it twice.
        later = sum(len(t) for k, t in segs[cut:] if k == "reasoning")
        raw = "".join(self._raw)
        self._raw = []
        if not later:
            return reasoning, raw[offset:]
        reasoning = reasoning[: len(reasoning) - later]
        if self._wrap and reasoning:
            # vLLM keeps only the tool phase's reasoning for such a delta: hand this delta's
            # earlier reasoning to the tool parser too, as a think block it will parse back.
            return "", THINK_OPEN + reasoning + THINK_CLOSE + raw[offset:]
        return reasoning, raw[offset:]


def _is_content_region(kind: str, text: str) -> bool:
    return kind != "reasoning" and not (kind == "tag" and text in _THINK_TAGS)
