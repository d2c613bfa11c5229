"""Drivers for the optional peers (vLLM, SGLang), each through its engine's own streaming path.

Nothing here imports a peer at module level: ``load_vllm()`` / ``load_sglang()`` do, and raise
``PeerUnavailable`` with the reason when a peer (or a module it needs) is missing, so the benches
skip with that reason. Install the peers with ``bench/peers/install.sh``.

Every driver returns ``(new, run)``: ``new()`` makes the per-request parser state (as the server
does when a request arrives; not timed), ``run(state, deltas[, ids]) -> Collected`` feeds a whole
stream, one call per delta, exactly as the engine's server does, and collects what it would send:

* vLLM 0.33 (``vllm.parser``): the server builds one ``Parser`` per request from
  ``ParserManager.get_parser(reasoning_parser_name=..., tool_parser_name=...)`` and calls
  ``parser.parse_delta(delta_text, delta_token_ids, request, prompt_token_ids, finished=...)``
  once per engine step (``ChatStreamProcessor.step``). For legacy parsers the parser's
  ``StreamState`` concatenates ``previous_text + delta_text`` and ``previous_token_ids +
  delta_token_ids`` on every step, then calls ``extract_reasoning_streaming`` /
  ``extract_tool_calls_streaming``. ``vllm_tool_parser_stream`` drives a bare ``ToolParser``
  the same way, without the ``Parser`` around it.
* SGLang 0.5.23: the server keeps one ``ReasoningParser`` and one ``FunctionCallParser`` per
  choice; each chunk goes through ``ReasoningParser.parse_stream_chunk`` and its normal text
  through ``FunctionCallParser.parse_stream_chunk`` (``detector.parse_streaming_increment``);
  ``parse_stream_end`` flushes both at the end (``serving_chat._process_reasoning_stream`` /
  ``_process_tool_call_stream``).

Token ids come from the real Qwen3 tokenizer (``../shared/reference/tokenizers/qwen3``, loaded
with ``transformers``), in which ``<think>``, ``</think>``, ``<tool_call>`` and ``</tool_call>``
are single tokens, as in Hermes 4 14B.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

QWEN3_TOKENIZER = Path(
    os.environ.get(
        "HERMES_QWEN3_TOKENIZER",
        Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "tokenizers" / "qwen3",
    )
)


class PeerUnavailable(Exception):
    """A peer (or something it imports) is not installed; the message says what."""


# ----------------------------------------------------------------------------- what a peer sent
@dataclass
class Collected:
    """Everything a peer streamed for one request, joined."""

    reasoning: list[str] = field(default_factory=list)
    content: list[str] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)
    args: dict[int, list[str]] = field(default_factory=dict)

    def add_call(self, index: int, name: str | None, arguments: str | None) -> None:
        if name:
            self.names[index] = name
        if arguments:
            self.args.setdefault(index, []).append(arguments)
        elif index not in self.args:
            self.args[index] = []

    @property
    def calls(self) -> list[tuple[str | None, str]]:
        """(name, joined arguments) per call, in index order."""
        return [(self.names.get(i), "".join(self.args.get(i, []))) for i in sorted(self.args)]

    def summary(self) -> tuple[str, str, list[tuple[str | None, str]]]:
        return "".join(self.reasoning), "".join(self.content), self.calls


def check(got: Collected, reasoning: str, calls: Sequence[tuple[str, Any]] | None,
          content: str | None = None) -> list[str]:
    """What the peer got wrong against the expected reasoning / calls / content ([] if nothing).

    ``calls`` compares names and *parsed* arguments (peers may re-serialise the JSON);
    ``content=None`` skips the content check."""
    r, c, got_calls = got.summary()
    problems = []
    if r != reasoning:
        problems.append(f"reasoning differs ({len(r)} vs {len(reasoning)} chars; "
                        f"first difference at {_first_diff(r, reasoning)})")
    if content is not None and c != content:
        problems.append(f"content differs ({len(c)} vs {len(content)} chars; "
                        f"first difference at {_first_diff(c, content)}: got {c[:60]!r})")
    if calls is not None:
        parsed = []
        for name, args in got_calls:
            try:
                parsed.append((name, json.loads(args)))
            except ValueError:
                parsed.append((name, f"<invalid JSON: {args[:40]!r}...>"))
        if parsed != list(calls):
            problems.append(f"tool calls differ: got {len(parsed)} "
                            f"{[(n, a if isinstance(a, str) else '…') for n, a in parsed]}, "
                            f"expected {len(calls)} {[n for n, _ in calls]}")
    return problems


def _first_diff(a: str, b: str) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


# ----------------------------------------------------------------------------- tokenizer
@functools.lru_cache(maxsize=1)
def qwen3_tokenizer() -> Any:
    try:
        import transformers
    except ImportError as exc:
        raise PeerUnavailable(f"transformers not installed ({exc}); the peers need a tokenizer") from exc
    if not (QWEN3_TOKENIZER / "tokenizer.json").exists():
        raise PeerUnavailable(f"Qwen3 tokenizer not found at {QWEN3_TOKENIZER}")
    return transformers.AutoTokenizer.from_pretrained(str(QWEN3_TOKENIZER))


def token_ids(deltas: Sequence[str]) -> list[list[int]]:
    """Each delta's ids (the Qwen3 tokenizer on the delta alone; tags are one id each)."""
    tok = qwen3_tokenizer()
    enc = tok(list(deltas), add_special_tokens=False)["input_ids"]
    return [list(ids) for ids in enc]


def tool_dicts(names: Sequence[str]) -> list[dict[str, Any]]:
    """OpenAI tool definitions (permissive object schemas) for the workload's tool names."""
    return [{"type": "function", "function": {
        "name": n, "description": f"the {n} tool",
        "parameters": {"type": "object", "properties": {}, "additionalProperties": True}}}
        for n in names]


# ----------------------------------------------------------------------------- vLLM
@functools.lru_cache(maxsize=1)
def load_vllm() -> Any:
    """The vLLM modules the drivers use (raises PeerUnavailable with the reason)."""
    try:
        import vllm
    except ImportError as exc:
        raise PeerUnavailable(f"optional peer vllm not installed ({exc}); "
                              "see bench/peers/install.sh") from exc
    try:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
        from vllm.parser.parser_manager import ParserManager
        from vllm.tool_parsers import ToolParserManager
    except ImportError as exc:
        raise PeerUnavailable(f"vllm is installed but its parser modules do not import ({exc}); "
                              "see bench/peers/install.sh") from exc

    class M:
        pass

    m = M()
    m.ChatCompletionRequest = ChatCompletionRequest
    m.ParserManager = ParserManager
    m.ToolParserManager = ToolParserManager
    m.version = vllm.__version__
    return m


def vllm_request(tool_names: Sequence[str] = ()) -> Any:
    v = load_vllm()
    kwargs: dict[str, Any] = {"model": "hermes", "messages": [{"role": "user", "content": "hi"}]}
    if tool_names:
        kwargs["tools"] = tool_dicts(tool_names)
    return v.ChatCompletionRequest(**kwargs)


def _collect_vllm(out: Collected, msg: Any) -> None:
    if msg is None:
        return
    if msg.reasoning:
        out.reasoning.append(msg.reasoning)
    if msg.content:
        out.content.append(msg.content)
    for tc in msg.tool_calls or ():
        fn = tc.function
        if isinstance(fn, dict):
            out.add_call(tc.index, fn.get("name"), fn.get("arguments"))
        elif fn is not None:
            out.add_call(tc.index, fn.name, fn.arguments)


def vllm_parser_stream(reasoning: str | None, tool: str | None,
                       tool_names: Sequence[str] = ()) -> Callable[[list[str], list[list[int]]], Collected]:
    """vLLM's serving path: one composed ``Parser`` per request, ``parse_delta`` per delta."""
    v = load_vllm()
    tok = qwen3_tokenizer()
    request = vllm_request(tool_names)
    cls = v.ParserManager.get_parser(tool_parser_name=tool, reasoning_parser_name=reasoning,
                                     enable_auto_tools=tool is not None, model_name="hermes")
    if cls is None:
        raise PeerUnavailable(f"vLLM has no parser for reasoning={reasoning!r} tool={tool!r}")
    prompt_ids = tok("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
                     add_special_tokens=False)["input_ids"]

    def new() -> Any:  # per request, as the server does (untimed in the benchmarks)
        return cls(tok, request.tools)

    def run(parser: Any, deltas: list[str], ids: list[list[int]]) -> Collected:
        out = Collected()
        parse_delta = parser.parse_delta
        last = len(deltas) - 1
        for i, (text, delta_ids) in enumerate(zip(deltas, ids)):
            _collect_vllm(out, parse_delta(text, delta_ids, request, prompt_ids, finished=i == last))
        return out

    return new, run


def vllm_tool_parser_stream(tool: str, tool_names: Sequence[str]) -> Callable[[list[str], list[list[int]]], Collected]:
    """A bare vLLM ``ToolParser`` through ``extract_tool_calls_streaming`` with the accumulated
    text and ids, as ``Parser.parse_delta`` passes them (``StreamState.advance``)."""
    v = load_vllm()
    tok = qwen3_tokenizer()
    request = vllm_request(tool_names)
    cls = v.ToolParserManager.get_tool_parser(tool)

    def new() -> Any:
        return cls(tok, request.tools)

    def run(parser: Any, deltas: list[str], ids: list[list[int]]) -> Collected:
        out = Collected()
        extract = parser.extract_tool_calls_streaming
        prev_text = ""
        prev_ids: list[int] = []
        for text, delta_ids in zip(deltas, ids):
            cur_text = prev_text + text
            cur_ids = prev_ids + delta_ids
            _collect_vllm(out, extract(prev_text, cur_text, text, prev_ids, cur_ids, delta_ids,
                                       request))
            prev_text, prev_ids = cur_text, cur_ids
        return out

    return new, run


# ----------------------------------------------------------------------------- SGLang
@functools.lru_cache(maxsize=1)
def load_sglang() -> Any:
    """SGLang's reasoning and function-call parser modules (raises PeerUnavailable)."""
    import importlib.util

    if importlib.util.find_spec("sglang") is None:
        raise PeerUnavailable("optional peer sglang not installed; see bench/peers/install.sh")
    try:
        from hermes_stream.integrations._sglang_import import ensure_sglang_parsers_importable

        ensure_sglang_parsers_importable()
        import sglang
        from sglang.srt.entrypoints.openai.protocol import Tool
        from sglang.srt.function_call.function_call_parser import FunctionCallParser
        from sglang.srt.parser.reasoning_parser import ReasoningParser
    except ImportError as exc:
        raise PeerUnavailable(f"sglang is installed but its parser modules do not import ({exc}); "
                              "see bench/peers/install.sh") from exc

    class M:
        pass

    m = M()
    m.Tool = Tool
    m.FunctionCallParser = FunctionCallParser
    m.ReasoningParser = ReasoningParser
    from importlib.metadata import version

    m.version = version("sglang")
    m.shimmed = getattr(sglang, "__hermes_stream_shim__", None)
    return m


def sglang_tools(tool_names: Sequence[str]) -> list[Any]:
    s = load_sglang()
    return [s.Tool(**t) for t in tool_dicts(tool_names)]


def sglang_stream(reasoning: str | None, tool: str | None,
                  tool_names: Sequence[str] = ()) -> Callable[[list[str]], Collected]:
    """SGLang's serving path: ReasoningParser then FunctionCallParser, per chunk."""
    s = load_sglang()
    tools = sglang_tools(tool_names)

    def new() -> Any:
        rp = s.ReasoningParser(reasoning, True, None, None, tool_call_parser_active=tool is not None) \
            if reasoning else None
        fp = s.FunctionCallParser(tools, tool) if tool else None
        return rp, fp

    def run(parsers: Any, deltas: list[str]) -> Collected:
        out = Collected()
        rp, fp = parsers
        last = len(deltas) - 1
        for i, text in enumerate(deltas):
            normal = text
            if rp is not None:
                r, normal = rp.parse_stream_chunk(text)
                if i == last:
                    r2, n2 = rp.parse_stream_end()
                    r, normal = (r or "") + (r2 or ""), (normal or "") + (n2 or "")
                if r:
                    out.reasoning.append(r)
            if fp is not None and (normal or i == last):
                normal, calls = fp.parse_stream_chunk(normal or "")
                if i == last:
                    n2, c2 = fp.parse_stream_end()
                    normal, calls = (normal or "") + n2, list(calls) + list(c2)
                for c in calls:
                    out.add_call(c.tool_index, c.name, c.parameters)
            if normal:
                out.content.append(normal)
        return out

    return new, run
