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
        # Order matters (hence no isort here): our module first, it makes sglang's parsers
        # importable without triton (_sglang_import.py).
        from hermes_stream.integrations import sglang as hsg  # noqa: I001
        from sglang.srt.entrypoints.openai.protocol import Tool
        from sglang.srt.function_call.function_call_parser import FunctionCallParser
        from sglang.srt.parser.reasoning_parser import ReasoningParser
    except ImportError as exc:  # sglang --no-deps without the light packages its parsers import
        pytest.skip(f"sglang is installed but its parser modules do not import ({exc}); "
                    "run bench/peers/install.sh", allow_module_level=True)

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")  # warnings raised inside SGLang



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


def _raw_split(text: str, start_in_reasoning: bool = False) -> tuple[str, str]:
    from hermes_stream.integrations._common import split_raw

    p = hs.StreamParser(reasoning_budget=None, start_in_reasoning=start_in_reasoning)
    p.feed(text)
    p.finish()
    return split_raw(p._segments())


@pytest.mark.parametrize("chunking", sorted(CHUNKINGS))
@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_reasoning_detector_alone(tok: Any, case: str, chunking: str) -> None:
    """--reasoning-parser only, or tool_choice="none" (SGLang then runs no function-call
    detector): every think block is reasoning, the rest raw normal text (markup kept), streamed
    and non-streamed alike."""
    text = OUTPUTS[case]
    rp = ReasoningParser(hsg.NAME, True, None, None, tool_call_parser_active=False)
    assert rp.detector.tool_call_parser_active is False
    out = Streamed()
    for text_chunk, _ in CHUNKINGS[chunking](tok, text):
        out.add(*rp.parse_stream_chunk(text_chunk), [])
    out.add(*rp.parse_stream_end(), [])
    want = _raw_split(text)
    assert (out.reasoning, out.content) == want
    r, n = ReasoningParser(hsg.NAME, True, None, None).parse_non_stream(text)
    assert ((r or ""), (n or "")) == want


def test_tool_call_parser_active_is_passed(tok: Any) -> None:
    rp = ReasoningParser(hsg.NAME, True, None, None, tool_call_parser_active=True)
    assert rp.detector.tool_call_parser_active is True


def test_stream_reasoning_false_several_blocks(tok: Any) -> None:
    """stream_reasoning=False: each block's reasoning arrives in one piece when it ends."""
    chunks = CHUNKINGS["tokens"](tok, OUTPUTS["second_think_block"])
    got = _stream(chunks, stream_reasoning=False)
    assert [s.reasoning for s in got if s.reasoning] == ["first", "second"]
    flat = Streamed([d for s in got for d in s.deltas])
    want = expected(chunks)
    assert (flat.reasoning, flat.content) == (want.reasoning, want.content)


@pytest.mark.parametrize("case", ["think_answer", "think_two_calls", "double_think_open",
                                  "unclosed_think", "ws_before_think"])
def test_force_reasoning_equals_prompt_opened_parser(tok: Any, case: str) -> None:
    """force_reasoning (the template opened <think>): the same as hs.StreamParser with
    start_in_reasoning, streamed and not (a model <think> right at the start is what hs does)."""
    text = OUTPUTS[case].removeprefix("<think>")
    rp = ReasoningParser(hsg.NAME, True, True, None, tool_call_parser_active=True)
    fp = FunctionCallParser([Tool(**t) for t in TOOLS], hsg.NAME)
    out = Streamed()
    chunks = CHUNKINGS["tokens"](tok, text)
    for k, (chunk, _) in enumerate(chunks):
        r, n = rp.parse_stream_chunk(chunk)
        if k == len(chunks) - 1:
            r2, n2 = rp.parse_stream_end()
            r, n = (r or "") + (r2 or ""), (n or "") + (n2 or "")
        n, calls = fp.parse_stream_chunk(n or "")
        if k == len(chunks) - 1:
            n3, c3 = fp.parse_stream_end()
            n, calls = n + n3, list(calls) + list(c3)
        out.add(r, n, [(c.tool_index, c.name, c.parameters, bool(c.name)) for c in calls])
    p = hs.StreamParser(tools=TOOLS, reasoning_budget=None, start_in_reasoning=True)
    p.feed(text)
    p.finish()
    m = p.message
    assert (out.reasoning, out.content) == (m.reasoning, m.content)
    assert out.calls == [(c.name, c.arguments) for c in m.tool_calls if c.error is None]
    r, n = ReasoningParser(hsg.NAME, True, True, None).parse_non_stream(text)
    assert ((r or ""), (n or "")) == _raw_split(text, start_in_reasoning=True)


# -- generated outputs and chunkings (Hypothesis) ---------------------------------------------------

from hypothesis import given
from hypothesis import strategies as st

from strategies import chunked, texts, tool_streams

_OUTPUTS = texts | tool_streams() | st.builds(lambda ws, t: ws + t, st.sampled_from(["", "\n", " \n"]),
                                              tool_streams())


@given(chunked(_OUTPUTS), st.booleans())
def test_generated_streams(data: tuple[str, list[str]], stream_reasoning: bool) -> None:
    """Both detectors: the same reasoning, content and calls as hs.StreamParser; the reasoning
    detector alone: hs.parse's reasoning and every other byte (split_raw), streamed and not."""
    text, chunks = data
    chunks = [c for c in chunks if c] or [""]
    pairs = [(c, []) for c in chunks]
    got = Streamed([d for s in _stream(pairs, stream_reasoning=stream_reasoning) for d in s.deltas])
    want = expected(pairs)
    assert (got.reasoning, got.content, got.calls) == (want.reasoning, want.content, want.calls)
    # (Delta by delta the chain of two parsers may hold a piece one chunk longer than one parser
    # would, e.g. "<tool_call><" | "/think>": the function-call detector sees other chunks.)
    rp = ReasoningParser(hsg.NAME, stream_reasoning, None, None)
    alone = Streamed()
    for c in chunks:
        alone.add(*rp.parse_stream_chunk(c), [])
    alone.add(*rp.parse_stream_end(), [])
    assert (alone.reasoning, alone.content) == _raw_split(text)


@pytest.mark.parametrize("case", ["think_answer", "think_two_calls", "ws_before_think",
                                  "second_think_block"])
def test_force_reasoning_with_model_opened_think(tok: Any, case: str) -> None:
    """SGLang forces reasoning from the template's toggle, not the prompt: for Hermes 4 a
    request with chat_template_kwargs={"thinking": True} gets force_reasoning=True although the
    model opens <think> itself. That <think> is then absorbed (SPEC rule 7), so the split is the
    model-opened one (whitespace before it becomes reasoning instead of content)."""
    text = OUTPUTS[case]
    chunks = CHUNKINGS["tokens"](tok, text)
    rp = ReasoningParser(hsg.NAME, True, True, None, tool_call_parser_active=True)
    out = Streamed()
    for chunk, _ in chunks:
        out.add(*rp.parse_stream_chunk(chunk), [])
    out.add(*rp.parse_stream_end(), [])
    want = _raw_split(text)
    lead = text[: len(text) - len(text.lstrip(" \t\r\n"))]
    assert (out.reasoning, out.content) == (lead + want[0], want[1][len(lead):])


@pytest.mark.parametrize("choice", ["required", "named"])
def test_required_and_named_constrain_to_hermes_calls(tok: Any, choice: str) -> None:
    """tool_choice="required" / a named tool: SGLang asks the detector for its constraint; it is
    a structural tag in Hermes' own <tool_call> format (never a JSON list the detector would not
    parse), and output in that format streams the call."""
    from sglang.srt.entrypoints.openai.protocol import ToolChoice

    tool_choice = ("required" if choice == "required"
                   else ToolChoice(type="function", function={"name": "get_weather"}))
    fp = FunctionCallParser([Tool(**t) for t in TOOLS], hsg.NAME)
    kind, tag = fp.get_structure_constraint(tool_choice)
    assert kind == "structural_tag"
    begin = '<tool_call>{"name":"get_weather", "arguments":'
    assert begin in [s.begin for s in tag.structures]
    text = "<think>r</think>" + begin + '{"city": "Oslo"}}</tool_call>'
    got = Streamed([d for s in _stream(CHUNKINGS["tokens"](tok, text)) for d in s.deltas])
    assert got.calls == [("get_weather", '{"city": "Oslo"}')]
