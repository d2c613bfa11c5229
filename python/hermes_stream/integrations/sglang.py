"""SGLang adapters: a reasoning detector and a function-call detector backed by ``hs.StreamParser``.

Importing this module (it imports SGLang's parser modules) registers both under the name
``hermes_stream``: ``ReasoningParser.DetectorMap`` and ``FunctionCallParser.ToolCallParserEnum``,
plus SGLang's CLI choice lists, so ``--reasoning-parser hermes_stream --tool-call-parser
hermes_stream`` work once it is imported in the server process (e.g. from an SGLang plugin entry
point, or ``python -c "import hermes_stream.integrations.sglang; from sglang.launch_server import
..."``). ``register()`` does the same again, idempotently.

SGLang's server keeps one ``ReasoningParser`` and one ``FunctionCallParser`` per choice and feeds
every chunk first to the reasoning detector (``parse_streaming_increment``), then its normal text
to the function-call detector (``parse_streaming_increment(new_text, tools)``), and flushes both
with ``finish()`` at the end. So each detector instance here serves one stream and owns its own
``hs.StreamParser``; every call costs O(chunk).

* ``HermesStreamReasoningDetector`` takes every ``<think>`` block out as reasoning and passes
  all other text through *raw* (tool-call markup untouched) as normal text
  (``_common.MarkupAsContent``), so it is right on its own (``--reasoning-parser`` only, or a
  request with ``tool_choice="none"``, where SGLang runs no function-call detector) and in front
  of the function-call detector, streaming or not. Whitespace before ``<think>`` stays content.
* ``HermesStreamDetector`` streams ``<tool_call>`` blocks: the name as soon as its string closes,
  argument bytes verbatim as they arrive, calls to undeclared tools never streamed. SGLang's
  detector interface has no reasoning channel: used *without* the reasoning detector, the text of
  a ``<think>`` block comes out as normal text, without its tags.

Together they stream the same reasoning, content and calls as ``hs.StreamParser`` on the whole
output (``tests/python/test_sglang.py``). ``ToolCallItem.tool_index`` is the call's index when
streaming and the tool's position in the request's list in ``detect_and_parse``, as in SGLang's
own detectors.

With a parsers-only SGLang install (no ``triton``), SGLang's package ``__init__`` is skipped; see
``_sglang_import.py``.
"""

from __future__ import annotations

from typing import Any

from ._sglang_import import ensure_sglang_parsers_importable

ensure_sglang_parsers_importable()

from sglang.srt.function_call import parser_names as _tool_names  # noqa: E402
from sglang.srt.function_call.base_format_detector import BaseFormatDetector  # noqa: E402
from sglang.srt.function_call.core_types import (  # noqa: E402
    StreamingParseResult as ToolParseResult,
)
from sglang.srt.function_call.core_types import StructureInfo, ToolCallItem  # noqa: E402
from sglang.srt.function_call.function_call_parser import FunctionCallParser  # noqa: E402
from sglang.srt.parser import reasoning_parser_names as _reasoning_names  # noqa: E402
from sglang.srt.parser.reasoning_parser import (  # noqa: E402
    BaseReasoningFormatDetector,
    ReasoningParser,
    StreamingParseResult,
)

import hermes_stream as hs  # noqa: E402

from ..reference.tags import THINK_CLOSE, THINK_OPEN  # noqa: E402
from ._common import MarkupAsContent, split_raw, tool_set  # noqa: E402

__all__ = ["NAME", "HermesStreamDetector", "HermesStreamReasoningDetector", "register"]

NAME = "hermes_stream"


class HermesStreamReasoningDetector(BaseReasoningFormatDetector):
    """SGLang reasoning detector: every ``<think>`` block split by ``hs.StreamParser``, all other
    text passed on raw (tool-call markup untouched) as normal text."""

    _accumulated_reasoning: str  # the base class's (force_nonempty_content)

    def __init__(
        self,
        stream_reasoning: bool = True,
        force_reasoning: bool = False,
        continue_final_message: bool = False,
        previous_content: str = "",
        force_nonempty_content: bool = False,
        tool_call_parser_active: bool = False,
    ) -> None:
        super().__init__(
            THINK_OPEN,
            THINK_CLOSE,
            force_reasoning=force_reasoning,
            stream_reasoning=stream_reasoning,
            continue_final_message=continue_final_message,
            previous_content=previous_content,
            force_nonempty_content=force_nonempty_content,
        )
        # _in_reasoning: forced by the server (template opened <think>) or by the previous
        # assistant content of continue_final_message.
        self._start_in_reasoning = self._in_reasoning
        # Whether a function-call detector consumes the normal text (SGLang passes it when the
        # request allows tool calls; False for tool_choice="none" or no --tool-call-parser).
        self.tool_call_parser_active = tool_call_parser_active
        self._stream = MarkupAsContent(start_in_reasoning=self._in_reasoning)
        self._held_reasoning: list[str] = []  # stream_reasoning=False: sent when it ends

    def detect_and_parse(self, text: str) -> StreamingParseResult:
        p = hs.StreamParser(reasoning_budget=None, start_in_reasoning=self._start_in_reasoning)
        p.feed(text)
        p.finish()
        reasoning, content = split_raw(p._segments())
        return self._maybe_apply_force_nonempty_content(
            StreamingParseResult(normal_text=content, reasoning_text=reasoning)
        )

    def parse_streaming_increment(self, new_text: str) -> StreamingParseResult:
        return self._out(*self._stream.feed(new_text), final=False)

    def finish(self) -> StreamingParseResult:
        return self._out(*self._stream.finish(), final=True)

    def _out(self, reasoning: str, content: str, final: bool) -> StreamingParseResult:
        if reasoning or content:  # in reasoning until text of the answer arrives
            self._in_reasoning = not content
        if final:
            self._in_reasoning = False
        if not self.stream_reasoning:
            if reasoning:
                self._held_reasoning.append(reasoning)
            if self._in_reasoning:
                return StreamingParseResult(normal_text=content)
            reasoning = "".join(self._held_reasoning)
            self._held_reasoning = []
        if self._force_nonempty_content:
            if self._in_reasoning:
                self._accumulated_reasoning += reasoning
            else:
                self._accumulated_reasoning = ""
        return StreamingParseResult(normal_text=content, reasoning_text=reasoning)


class HermesStreamDetector(BaseFormatDetector):
    """SGLang function-call detector: Hermes ``<tool_call>`` blocks streamed by
    ``hs.StreamParser``."""

    def __init__(self) -> None:
        super().__init__()
        self.bot_token = "<tool_call>"
        self.eot_token = "</tool_call>"
        self.tool_call_separator = "\n"
        self._parser: Any = None  # made on the first chunk, with that call's tools

    def has_tool_call(self, text: str) -> bool:
        return self.bot_token in text

    def detect_and_parse(self, text: str, tools: list[Any]) -> ToolParseResult:
        msg = hs.parse(text, tools=tool_set(tools), reasoning_budget=None)
        position = {t.function.name: i for i, t in enumerate(tools or ()) if t.function.name}
        calls = [
            ToolCallItem(tool_index=position.get(c.name, -1), name=c.name, parameters=c.arguments)
            for c in msg.tool_calls
            if c.error is None
        ]
        return ToolParseResult(normal_text=msg.reasoning + msg.content, calls=calls)

    def parse_streaming_increment(self, new_text: str, tools: list[Any]) -> ToolParseResult:
        p = self._parser
        if p is None:
            p = self._parser = hs.StreamParser(tools=tool_set(tools), reasoning_budget=None)
        if p.finished:
            return ToolParseResult(normal_text=new_text)
        return _to_result(p.feed(new_text))

    def finish(self, tools: list[Any]) -> ToolParseResult:
        p = self._parser
        if p is None or p.finished:
            return ToolParseResult()
        return _to_result(p.finish())

    def structure_info(self) -> Any:
        return lambda name: StructureInfo(
            begin='<tool_call>{"name":"' + name + '", "arguments":',
            end="}</tool_call>",
            trigger="<tool_call>",
        )


def _to_result(d: Any) -> ToolParseResult:
    if not d:
        return ToolParseResult()
    calls = [ToolCallItem(tool_index=tc.index, name=tc.name, parameters=tc.arguments)
             for tc in d.tool_calls]
    return ToolParseResult(normal_text=d.reasoning + d.content, calls=calls)


def register() -> None:
    """Register both detectors under ``hermes_stream`` (idempotent)."""
    ReasoningParser.DetectorMap[NAME] = HermesStreamReasoningDetector
    FunctionCallParser.ToolCallParserEnum[NAME] = HermesStreamDetector
    for names in (_reasoning_names.REASONING_PARSER_NAMES, _tool_names.TOOL_CALL_PARSER_NAMES):
        if NAME not in names:
            names.append(NAME)


register()
