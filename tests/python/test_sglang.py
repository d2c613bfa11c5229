"""SGLang adapters (hermes_stream.integrations.sglang) against the real installed SGLang.

Driven as SGLang's OpenAI server drives its parsers (``serving_chat``): one ``ReasoningParser`` and
one ``FunctionCallParser`` per choice, created by name from SGLang's registries; each chunk goes
through ``ReasoningParser.parse_stream_chunk`` and its normal text through
``FunctionCallParser.parse_stream_chunk``; ``parse_stream_end`` flushes both with the last chunk.
The streamed reasoning, content and calls must equal ``hs.StreamParser``'s for the same chunks.
Skipped (with the reason) where SGLang is absent: install it with ``bench/peers/install.sh``.
"""

from __future__ import annotations

import importlib.util
import warnings
from typing import Any

import pytest

from peer_cases import CHUNKINGS, OUTPUTS, TOOLS, Streamed, expected, qwen3_tokenizer

if importlib.util.find_spec("sglang") is None:
    pytest.skip("optional peer sglang not installed (bench/peers/install.sh)", allow_module_level=True)
pytest.importorskip("transformers", reason="needs transformers for the Qwen3 tokenizer")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    try:
        from hermes_stream.integrations import sglang as hsg
        from sglang.srt.entrypoints.openai.protocol import Tool
        from sglang.srt.function_call.function_call_parser import FunctionCallParser
        from sglang.srt.parser.reasoning_parser import ReasoningParser
    except ImportError as exc:  # sglang --no-deps without the light packages its parsers import
        pytest.skip(f"sglang is installed but its parser modules do not import ({exc}); "
                    "run bench/peers/install.sh", allow_module_level=True)

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")  # warnings raised inside SGLang

#: A later <think> block comes out of SGLang's tool detector as normal text (no reasoning channel).
LATE_THINK = {"second_think_block", "text_before_think"}


@pytest.fixture(scope="module")
def tok() -> Any:
    return qwen3_tokenizer()


def _stream(chunks: list[tuple[str, list[int]]], stream_reasoning: bool = True,
            tools: Any = TOOLS) -> list[Streamed]:
    rp = ReasoningParser(hsg.NAME, stream_reasoning, None, None, tool_call_parser_active=True)
    fp = FunctionCallParser([Tool(**t) for t in tools], hsg.NAME)
    out = []
    for k, (text, _) in enumerate(chunks):
        last = k == len(chunks) - 1
        reasoning, normal = rp.parse_stream_chunk(text)
        if last:
            r2, n2 = rp.parse_stream_end()
            reasoning, normal = (reasoning or "") + (r2 or ""), (normal or "") + (n2 or "")
        normal, calls = fp.parse_stream_chunk(normal or "")
        if last:
            n2, c2 = fp.parse_stream_end()
            normal, calls = normal + n2, list(calls) + list(c2)
        s = Streamed()
        s.add(reasoning, normal, [(c.tool_index, c.name, c.parameters, bool(c.name))
                                  for c in calls])
        out.append(s)
    return out


def test_registered_under_hermes_stream() -> None:
    from sglang.srt.function_call.parser_names import TOOL_CALL_PARSER_NAMES
    from sglang.srt.parser.reasoning_parser_names import REASONING_PARSER_NAMES

    assert ReasoningParser.DetectorMap["hermes_stream"] is hsg.HermesStreamReasoningDetector
    assert FunctionCallParser.ToolCallParserEnum["hermes_stream"] is hsg.HermesStreamDetector
    assert "hermes_stream" in REASONING_PARSER_NAMES and "hermes_stream" in TOOL_CALL_PARSER_NAMES
    hsg.register()  # idempotent
    assert TOOL_CALL_PARSER_NAMES.count("hermes_stream") == 1


@pytest.mark.parametrize("chunking", sorted(CHUNKINGS))
@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_stream_equals_stream_parser(tok: Any, case: str, chunking: str) -> None:
    chunks = CHUNKINGS[chunking](tok, OUTPUTS[case])
    want = expected(chunks)
    got = _stream(chunks)
    assert len(got) == len(chunks)
    flat = Streamed([d for s in got for d in s.deltas])
    if case in LATE_THINK:
        # The answer started before this think block: its reasoning is normal text (nothing lost;
        # within one chunk that holds both, the reasoning part comes first).
        assert flat.calls == want.calls
        assert sorted(flat.reasoning + flat.content) == sorted(want.reasoning + want.content)
        return
    # SGLang marks the first fragment of a call by its name, not an id.
    want_deltas = [(r, c, tuple((i, n, a, n is not None) for i, n, a, _ in calls))
                   for r, c, calls in want.deltas]
    assert flat.deltas == want_deltas


def test_stream_reasoning_false(tok: Any) -> None:
    """stream_reasoning=False: the reasoning arrives in one piece when the answer starts."""
    chunks = CHUNKINGS["tokens"](tok, OUTPUTS["think_two_calls"])
    got = _stream(chunks, stream_reasoning=False)
    with_reasoning = [s.reasoning for s in got if s.reasoning]
    assert with_reasoning == ["Need weather for both."]
    want = expected(chunks)
    flat = Streamed([d for s in got for d in s.deltas])
    assert (flat.content, flat.calls) == (want.content, want.calls)


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_non_streaming(case: str) -> None:
    text = OUTPUTS[case]
    rp = ReasoningParser(hsg.NAME, True, None, None)
    reasoning, normal = rp.parse_non_stream(text)
    tools = [Tool(**t) for t in TOOLS]
    normal_text, calls = FunctionCallParser(tools, hsg.NAME).parse_non_stream(normal or "")
    msg = hs.parse(text, tools=TOOLS, reasoning_budget=None)
    ok = [c for c in msg.tool_calls if c.error is None]
    assert (reasoning or "") == msg.reasoning
    assert [(c.name, c.parameters) for c in calls] == [(c.name, c.arguments) for c in ok]
    assert [c.tool_index for c in calls] == [[t["function"]["name"] for t in TOOLS].index(c.name)
                                             for c in ok]
    normal = normal or ""
    rest = hs.parse(normal, tools=TOOLS, reasoning_budget=None)
    assert normal_text == (rest.reasoning + rest.content if "<tool_call>" in normal else normal)


def test_force_reasoning(tok: Any) -> None:
    """The server's force_reasoning (the template opened <think>) starts in reasoning."""
    rp = ReasoningParser(hsg.NAME, True, True, None)
    assert rp.parse_stream_chunk("thinking") == ("thinking", "")
    assert rp.parse_stream_chunk("</think>answer") == ("", "answer")
