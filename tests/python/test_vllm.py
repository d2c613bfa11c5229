"""vLLM plugins (hermes_stream.integrations.vllm) against the real installed vLLM.

Driven through vLLM's own serving path: ``ParserManager.get_parser`` composes the registered
parsers into the per-request ``Parser`` and ``parse_delta`` / ``ChatStreamProcessor.step`` is called
once per delta, as vLLM's OpenAI server does. The streamed reasoning, content and tool calls must
equal ``hs.StreamParser``'s for the same deltas. Skipped (with the reason) where vLLM is absent:
install it with ``bench/peers/install.sh`` (``.ci/peers`` does).
"""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import pytest

from peer_cases import CHUNKINGS, OUTPUTS, PROMPT, TOOLS, Streamed, expected, qwen3_tokenizer

pytest.importorskip("vllm", reason="optional peer vllm not installed (bench/peers/install.sh)",
                    exc_type=ImportError)
pytest.importorskip("transformers", reason="needs transformers for the Qwen3 tokenizer")
with warnings.catch_warnings():  # vLLM's imports warn (torch / pydantic deprecations)
    warnings.simplefilter("ignore")
    try:
        from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
        from vllm.entrypoints.openai.chat_completion.stream_processor import ChatStreamProcessor
        from vllm.parser.parser_manager import ParserManager
        from vllm.reasoning import ReasoningParserManager
        from vllm.tool_parsers import ToolParserManager

        from hermes_stream.integrations import vllm as hv
    except ImportError as exc:  # vllm --no-deps without the light packages its parsers import
        pytest.skip(f"vllm is installed but its parser modules do not import ({exc}); "
                    "run bench/peers/install.sh", allow_module_level=True)

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")  # warnings raised inside vLLM


@pytest.fixture(scope="module")
def tok() -> Any:
    return qwen3_tokenizer()


def _request(tools: Any = TOOLS) -> Any:
    return ChatCompletionRequest(model="hermes", messages=[{"role": "user", "content": "hi"}],
                                 tools=tools)


def _parser(tok: Any, request: Any, reasoning: str | None = hv.NAME,
            tool: str | None = hv.NAME) -> Any:
    cls = ParserManager.get_parser(tool_parser_name=tool, reasoning_parser_name=reasoning,
                                   enable_auto_tools=tool is not None, model_name="hermes")
    return cls(tok, request.tools, chat_template_kwargs={}, model_config=None)


def _collect(out: Streamed, msg: Any) -> None:
    if msg is None:
        out.add(None, None, [])
        return
    calls = []
    for tc in msg.tool_calls or ():
        fn = tc.function
        calls.append((tc.index, fn.name if fn else None, fn.arguments if fn else None,
                      tc.id is not None))
    out.add(msg.reasoning, msg.content, calls)


def _stream(tok: Any, chunks: list[tuple[str, list[int]]], reasoning: str | None = hv.NAME,
            tool: str | None = hv.NAME, tools: Any = TOOLS) -> list[Streamed]:
    request = _request(tools)
    parser = _parser(tok, request, reasoning, tool)
    prompt = tok.encode(PROMPT, add_special_tokens=False)
    per_delta = []
    for k, (text, ids) in enumerate(chunks):
        s = Streamed()
        _collect(s, parser.parse_delta(text, ids, request, prompt, finished=k == len(chunks) - 1))
        per_delta.append(s)
    return per_delta


def _joined(per_delta: list[Streamed]) -> Streamed:
    out = Streamed()
    for s in per_delta:
        out.deltas.extend(s.deltas)
    return out


def test_registered_under_hermes_stream() -> None:
    assert ReasoningParserManager.get_reasoning_parser("hermes_stream") is hv.HermesStreamReasoningParser
    assert ToolParserManager.get_tool_parser("hermes_stream") is hv.HermesStreamToolParser
    # The --*-parser-plugin flags take the module name (vLLM's import_plugin).
    ReasoningParserManager.import_reasoning_parser("hermes_stream.integrations.vllm")
    ToolParserManager.import_tool_parser("hermes_stream.integrations.vllm")


@pytest.mark.parametrize("chunking", sorted(CHUNKINGS))
@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_stream_equals_stream_parser(tok: Any, case: str, chunking: str) -> None:
    """Both plugins through Parser.parse_delta: the same deltas as hs.StreamParser, delta by delta."""
    chunks = CHUNKINGS[chunking](tok, OUTPUTS[case])
    want = expected(chunks)
    got = _stream(tok, chunks)
    assert len(got) == len(chunks)
    got_flat = [d for s in got for d in s.deltas]
    assert got_flat == want.deltas
    assert _joined(got).calls == want.calls


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_tool_parser_alone_equals_stream_parser(tok: Any, case: str) -> None:
    """--tool-call-parser hermes_stream without a reasoning parser: it splits reasoning too."""
    chunks = CHUNKINGS["tokens"](tok, OUTPUTS[case])
    got = [d for s in _stream(tok, chunks, reasoning=None) for d in s.deltas]
    assert got == expected(chunks).deltas


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_reasoning_parser_alone(tok: Any, case: str) -> None:
    """--reasoning-parser hermes_stream without a tool parser: the reasoning of the first think
    block, the rest as raw content (tool-call markup kept, as vLLM expects without a tool parser)."""
    text = OUTPUTS[case]
    chunks = CHUNKINGS["tokens"](tok, text)
    got = _joined(_stream(tok, chunks, tool=None))
    segs = hs.parse(text, reasoning_budget=None).segments
    first_close = next((i for i, s in enumerate(segs) if s.kind == "tag" and s.text == "</think>"),
                       None)
    lead = 0  # whitespace before the first <think> is content, not the answer's start
    while lead < len(segs) and segs[lead].kind == "content" and not segs[lead].text.strip():
        lead += 1
    if lead < len(segs) and (segs[lead].kind, segs[lead].text) != ("tag", "<think>"):
        first_close = -1  # answer first: all content
    if first_close is None:  # never closed: all reasoning
        assert (got.reasoning, got.content) == (hs.parse(text, reasoning_budget=None).reasoning,
                                                "".join(s.text for s in segs[:lead]))
    else:
        before = segs[: first_close + 1]
        assert got.reasoning == "".join(s.text for s in before if s.kind == "reasoning")
        rest = segs[:lead] + segs[first_close + 1:] if first_close >= 0 else segs
        assert got.content == "".join(s.text for s in rest)
    assert got.calls == []


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_non_streaming_parse(tok: Any, case: str) -> None:
    text = OUTPUTS[case]
    request = _request()
    reasoning, content, calls = _parser(tok, request).parse(text, request, enable_auto_tools=True)
    msg = hs.parse(text, tools=TOOLS, reasoning_budget=None)
    assert (reasoning or "") == msg.reasoning
    ok = [c for c in msg.tool_calls if c.error is None]
    assert [(c.name, c.arguments) for c in calls or []] == [(c.name, c.arguments) for c in ok]
    if ok:
        assert (content or "").strip() == msg.content.strip()
    else:
        assert (content or "") == msg.content


def test_chat_stream_processor(tok: Any) -> None:
    """The exact per-chunk entry of vLLM's OpenAI server (ChatStreamProcessor.step)."""
    request = _request()
    cls = ParserManager.get_parser(tool_parser_name=hv.NAME, reasoning_parser_name=hv.NAME,
                                   enable_auto_tools=True)
    proc = ChatStreamProcessor(request, cls(tok, request.tools), enable_auto_tools=True,
                               parser_cls=cls)
    chunks = CHUNKINGS["tokens"](tok, OUTPUTS["think_two_calls"])
    prompt = tok.encode(PROMPT, add_special_tokens=False)
    got = Streamed()
    finish = None
    for k, (text, ids) in enumerate(chunks):
        step = proc.step(text, ids, "stop" if k == len(chunks) - 1 else None, prompt)
        _collect(got, step.delta)
        finish = step.finish_reason
    want = expected(chunks)
    assert got.deltas == want.deltas
    assert finish == "tool_calls"
    assert [n for n, _ in got.calls] == ["get_weather", "get_weather"]


def test_only_the_delta_is_read(tok: Any) -> None:
    """O(delta): the plugins never touch previous/current text or ids (objects that would raise
    on any use are passed)."""

    class Poison:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"accumulated argument used: .{name}")

        def __len__(self) -> int:
            raise AssertionError("accumulated argument used: len()")

        def __iter__(self) -> Any:
            raise AssertionError("accumulated argument used: iteration")

    request = _request()
    rp = hv.HermesStreamReasoningParser(tok)
    tp = hv.HermesStreamToolParser(tok, request.tools)
    x = Poison()
    chunks = CHUNKINGS["tokens"](tok, OUTPUTS["think_two_calls"])
    out = Streamed()
    for text, ids in chunks:
        if not rp.has_engine_confirmed_reasoning_end():
            m = rp.extract_reasoning_streaming(x, x, text, x, x, ids)
            if rp.has_engine_confirmed_reasoning_end():
                content = m.content if m else None
                _collect(out, m.model_copy(update={"content": None}) if m else None)
                _collect(out, tp.extract_tool_calls_streaming(x, x, content or "", x, x, ids, request))
                continue
            _collect(out, m)
        else:
            _collect(out, tp.extract_tool_calls_streaming(x, x, text, x, x, ids, request))
    _collect(out, tp.finish_streaming())
    want = expected(chunks)
    assert (out.reasoning, out.content, out.calls) == (want.reasoning, want.content, want.calls)


def test_reasoning_end_by_token_id(tok: Any) -> None:
    rp = hv.HermesStreamReasoningParser(tok)
    think, end = tok.convert_tokens_to_ids(["<think>", "</think>"])
    # Hermes 4's thinking system prompt contains "<think> </think>": an earlier turn, not an end.
    sys_prompt = tok.encode("<|im_start|>system\nUse <think> </think> tags.<|im_end|>\n"
                            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")
    assert end in sys_prompt and not rp.is_reasoning_end(sys_prompt)
    assert rp.is_reasoning_end(sys_prompt + [think, 100, end, 200])
    assert not rp.is_reasoning_end(sys_prompt + [think, 100])
    assert rp.is_reasoning_end_streaming([], [5, end]) and not rp.is_reasoning_end_streaming([], [5])
    assert rp.extract_content_ids([think, 1, end, 2, 3]) == [2, 3]
    assert rp.count_reasoning_tokens([think, 1, 2, end, 3]) == 2
    # A prompt that opens <think> starts the parser in reasoning.
    rp.adjust_initial_state_from_prompt(sys_prompt + [think])
    m = rp.extract_reasoning_streaming("", "", "already thinking", [], [], [1])
    assert m is not None and m.reasoning == "already thinking"


def test_import_hermes_stream_does_not_import_engines() -> None:
    code = ("import sys, hermes_stream, hermes_stream.integrations; "
            "bad = [m for m in ('vllm', 'sglang') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- tool_choice, prompt state (SPEC §4.2, §4.4) ---------------------------------------------------

def _raw_expected(text: str, start_in_reasoning: bool = False) -> tuple[str, str]:
    """(reasoning, content) with tool-call markup kept as content: hs.parse's split."""
    from hermes_stream.integrations._common import split_raw

    p = hs.StreamParser(reasoning_budget=None, start_in_reasoning=start_in_reasoning)
    p.feed(text)
    p.finish()
    return split_raw(p._segments())


def _request_with(tool_choice: Any) -> Any:
    return ChatCompletionRequest(model="hermes", messages=[{"role": "user", "content": "hi"}],
                                 tools=TOOLS, tool_choice=tool_choice)


def _serve_stream(tok: Any, request: Any, text: str, reasoning: str | None = hv.NAME,
                  prompt: list[int] | None = None) -> tuple[Streamed, str | None]:
    """Stream ``text`` token by token through ChatStreamProcessor, as vLLM's server does."""
    cls = ParserManager.get_parser(tool_parser_name=hv.NAME, reasoning_parser_name=reasoning,
                                   enable_auto_tools=True)
    proc = ChatStreamProcessor(request, cls(tok, request.tools), enable_auto_tools=True,
                               parser_cls=cls)
    chunks = CHUNKINGS["tokens"](tok, text)
    prompt = tok.encode(PROMPT, add_special_tokens=False) if prompt is None else prompt
    got = Streamed()
    finish = None
    for k, (delta, ids) in enumerate(chunks):
        step = proc.step(delta, ids, "stop" if k == len(chunks) - 1 else None, prompt)
        _collect(got, step.delta)
        finish = step.finish_reason
    return got, finish


def _serve_whole(tok: Any, request: Any, text: str, reasoning: str | None = hv.NAME,
                 prompt: list[int] | None = None) -> Any:
    """Non-streaming, as vLLM's server does: set_prompt_token_ids, parse, assemble the message."""
    from vllm.entrypoints.openai.chat_completion.message_assembly import (
        assemble_chat_message_fields,
    )

    cls = ParserManager.get_parser(tool_parser_name=hv.NAME, reasoning_parser_name=reasoning,
                                   enable_auto_tools=True)
    parser = cls(tok, request.tools)
    parser.set_prompt_token_ids(tok.encode(PROMPT, add_special_tokens=False)
                                if prompt is None else prompt)
    r, c, calls = parser.parse(text, request, enable_auto_tools=True)
    return assemble_chat_message_fields(request, r, c, calls, enable_auto_tools=True,
                                        parser_cls=cls)


@pytest.mark.parametrize("reasoning", [hv.NAME, None], ids=["both", "tool_alone"])
@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_tool_choice_none_streaming_keeps_markup(tok: Any, case: str, reasoning: str | None) -> None:
    """tool_choice="none": vLLM drops tool_calls; the markup must come out as content."""
    text = OUTPUTS[case]
    got, finish = _serve_stream(tok, _request_with("none"), text, reasoning)
    assert got.calls == []
    assert (got.reasoning, got.content) == _raw_expected(text)
    assert finish == "stop"


@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_tool_choice_none_non_streaming_keeps_markup(tok: Any, case: str) -> None:
    text = OUTPUTS[case]
    fields = _serve_whole(tok, _request_with("none"), text)
    assert fields.tool_calls == []
    assert ((fields.reasoning or ""), (fields.content or "")) == _raw_expected(text)


def test_tool_choice_none_tool_parser_alone_non_streaming_is_lossless(tok: Any) -> None:
    """Without a reasoning parser the non-streaming result has no reasoning field: the whole
    output is the content (nothing dropped)."""
    text = OUTPUTS["think_two_calls"]
    fields = _serve_whole(tok, _request_with("none"), text, reasoning=None)
    assert (fields.reasoning, fields.content, fields.tool_calls) == (None, text, [])


def test_auto_tool_parser_alone_non_streaming_keeps_reasoning(tok: Any) -> None:
    text = OUTPUTS["text_around_calls"]
    fields = _serve_whole(tok, _request(), text, reasoning=None)
    msg = hs.parse(text, tools=TOOLS, reasoning_budget=None)
    assert [(c.function.name, c.function.arguments) for c in fields.tool_calls] == [
        (c.name, c.arguments) for c in msg.tool_calls]
    assert fields.content == "<think>hmm</think>" + msg.content


CHOICES = {"required": "required",
           "named": {"type": "function", "function": {"name": "get_weather"}}}


def test_required_and_named_go_through_the_parser() -> None:
    """vLLM's own required/named path parses a JSON list, which Hermes output is not: the
    parser declares it unsuitable, so vLLM runs it as for "auto" (whatever the strict-tool env)."""
    assert hv.HermesStreamToolParser.supports_required_and_named is False


@pytest.mark.parametrize("choice", sorted(CHOICES))
@pytest.mark.parametrize("case", ["think_two_calls", "ws_then_call", "text_around_calls"])
def test_required_and_named_stream_the_calls(tok: Any, case: str, choice: str) -> None:
    text = OUTPUTS[case]
    request = _request_with(CHOICES[choice])
    adjusted = _parser(tok, request).adjust_request(request)
    so = adjusted.structured_outputs
    assert so is None or so.json is None  # never forced into vLLM's JSON-list format
    got, _ = _serve_stream(tok, request, text)
    chunks = CHUNKINGS["tokens"](tok, text)
    want = expected(chunks)
    assert got.calls == want.calls and got.calls  # streamed, never nothing
    assert (got.reasoning, got.content) == (want.reasoning, want.content)
    fields = _serve_whole(tok, _request_with(CHOICES[choice]), text)
    msg = hs.parse(text, tools=TOOLS, reasoning_budget=None)
    assert [(c.function.name, c.function.arguments) for c in fields.tool_calls] == [
        (c.name, c.arguments) for c in msg.tool_calls]
    assert (fields.reasoning or "") == msg.reasoning


THINKING_SYSTEM = ("<|im_start|>system\nYou are a deep thinking AI. Enclose your thoughts in "
                   "<think> </think> tags.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"
                   "<|im_start|>assistant\n")


@pytest.mark.parametrize("opened", [False, True], ids=["model_opens", "prompt_opens"])
@pytest.mark.parametrize("case", ["think_answer", "think_two_calls", "unclosed_think",
                                  "double_think_open"])
def test_prompt_state_from_final_turn(tok: Any, case: str, opened: bool) -> None:
    """The thinking system prompt's "<think> </think>" never counts; a final turn ending in
    <think> starts in reasoning, streaming and non-streaming alike (SPEC §4.2)."""
    text = OUTPUTS[case]
    if opened:
        text = text.removeprefix("<think>")
    prompt = tok.encode(THINKING_SYSTEM + ("<think>" if opened else ""), add_special_tokens=False)
    p = hs.StreamParser(tools=TOOLS, reasoning_budget=None, start_in_reasoning=opened)
    p.feed(text)
    p.finish()
    want = p.message
    got, _ = _serve_stream(tok, _request(), text, prompt=prompt)
    assert (got.reasoning, got.content) == (want.reasoning, want.content)
    fields = _serve_whole(tok, _request(), text, prompt=prompt)
    assert (fields.reasoning or "") == want.reasoning
    assert [c.function.name for c in fields.tool_calls] == [c.name for c in want.tool_calls]


def test_prompt_state_multi_token_think() -> None:
    """Llama-3 vocabulary: <think> is several tokens, so the reasoning parser decodes the final
    turn (prompt_opens_reasoning) instead of looking for one id."""
    from hermes_stream.integrations._common import prompt_opens_reasoning, turn_ids
    from peer_cases import QWEN3

    path = QWEN3.parent / "llama-3" / "tokenizer.model"
    if not path.exists():
        pytest.skip(f"reference Llama-3 tokenizer absent ({path})")
    vocab = hs.Vocab.from_tiktoken(path)
    assert len(vocab.encode("<think>")) > 1
    turns = turn_ids(vocab)
    head = ("<|start_header_id|>system<|end_header_id|>\n\nUse <think> </think> tags.<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n")
    assert not prompt_opens_reasoning(vocab.encode(head), vocab, turns)
    assert prompt_opens_reasoning(vocab.encode(head + "<think>"), vocab, turns)
    assert prompt_opens_reasoning(vocab.encode(head + "<think>\nso far"), vocab, turns)
    assert not prompt_opens_reasoning(vocab.encode(head + "<think>x</think>\n"), vocab, turns)
    # An earlier turn's open <think> does not leak into the final turn.
    assert not prompt_opens_reasoning(
        vocab.encode("<|start_header_id|>user<|end_header_id|>\n\n<think><|eot_id|>"
                     "<|start_header_id|>assistant<|end_header_id|>\n\n"), vocab, turns)


# -- generated outputs and chunkings (Hypothesis) ---------------------------------------------------

from hypothesis import given
from hypothesis import strategies as st

from strategies import chunked, texts, tool_streams

_OUTPUTS = texts | tool_streams() | st.builds(lambda ws, t: ws + t, st.sampled_from(["", "\n", " \n"]),
                                              tool_streams())


def _stream_text(tok: Any, chunks: list[str], request: Any, reasoning: str | None,
                 tool: str | None = hv.NAME, prompt: list[int] | None = None) -> Streamed:
    parser = _parser(tok, request, reasoning, tool)
    prompt = tok.encode(PROMPT, add_special_tokens=False) if prompt is None else prompt
    chunks = [c for c in chunks if c] or [""]
    out = Streamed()
    for k, c in enumerate(chunks):
        _collect(out, parser.parse_delta(c, [0], request, prompt, finished=k == len(chunks) - 1))
    return out


@given(chunked(_OUTPUTS))
def test_generated_streams_equal_stream_parser(tok: Any, data: tuple[str, list[str]]) -> None:
    """Both parsers, and the tool parser alone: joined deltas equal hs.StreamParser's message."""
    _, chunks = data
    w = expected([(c, [0]) for c in chunks])
    want = (w.reasoning, w.content, w.calls)
    for reasoning in (hv.NAME, None):
        got = _stream_text(tok, chunks, _request(), reasoning)
        assert (got.reasoning, got.content, got.calls) == want


@given(chunked(_OUTPUTS))
def test_generated_tool_choice_none_keeps_every_byte(tok: Any, data: tuple[str, list[str]]) -> None:
    text, chunks = data
    want = _raw_expected(text)
    for reasoning in (hv.NAME, None):
        got = _stream_text(tok, chunks, _request_with("none"), reasoning)
        # vLLM strips tool_calls for "none" (ChatStreamProcessor); none may be produced at all.
        assert got.calls == []
        assert (got.reasoning, got.content) == want


@given(chunked(_OUTPUTS), st.booleans())
def test_generated_reasoning_parser_alone_is_lossless(tok: Any, data: tuple[str, list[str]],
                                                       opened: bool) -> None:
    """--reasoning-parser only: the first think block's reasoning, everything else as raw
    content (a later think block stays content text once the answer started)."""
    text, chunks = data
    prompt = tok.encode(PROMPT + ("<think>" if opened else ""), add_special_tokens=False)
    got = _stream_text(tok, chunks, _request(), hv.NAME, tool=None, prompt=prompt)
    p = hs.StreamParser(reasoning_budget=None, start_in_reasoning=opened)
    p.feed(text)
    p.finish()
    segs = p._segments()
    assert got.calls == []
    # hs.parse's split until the answer starts (the first content-region segment that is not
    # whitespace before any tag), then every byte from the end of the last think block before it.
    def region(k: str, t: str) -> bool:
        return k != "reasoning" and not (k == "tag" and t in ("<think>", "</think>"))

    lead = 0
    while lead < len(segs) and segs[lead][0] == "content" and not segs[lead][1].strip(" \t\r\n"):
        lead += 1
    first = next((i for i in range(lead, len(segs)) if region(*segs[i])), None)
    ws = "".join(t for _, t in segs[:lead])
    if first is None:  # the answer never starts: reasoning throughout
        want = (p.message.reasoning, ws)
    else:
        cut = next((i + 1 for i in range(first - 1, lead - 1, -1) if not region(*segs[i])), lead)
        want = ("".join(t for k, t in segs[:cut] if k == "reasoning"),
                ws + "".join(t for _, t in segs[cut:]) if cut > lead else text)
    if any("</think>" in c and "<think>" in c[c.index("</think>"):] for c in chunks):
        # One delta with </think>, answer text and a new <think>: that delta's reasoning goes
        # on as a think block in the raw text (the tool phase re-parses it), so without a tool
        # parser it shows as content. Rare (a delta is a token or a few); nothing is lost.
        def bare(x: str) -> list[str]:
            return sorted(x.replace("<think>", "").replace("</think>", ""))

        assert bare(got.reasoning + got.content) == bare(want[0] + want[1])
    else:
        assert (got.reasoning, got.content) == want


@given(chunked(_OUTPUTS))
def test_generated_prompt_opened_streams(tok: Any, data: tuple[str, list[str]]) -> None:
    """A final turn ending in <think> (after the thinking system prompt's "<think> </think>"):
    both parsers stream what hs.StreamParser(start_in_reasoning=True) streams."""
    _, chunks = data
    prompt = tok.encode(THINKING_SYSTEM + "<think>", add_special_tokens=False)
    p = hs.StreamParser(tools=TOOLS, reasoning_budget=None, start_in_reasoning=True)
    ds = [p.feed(c) for c in chunks] + [p.finish()]
    want = Streamed()
    for d in ds:
        want.add(d.reasoning, d.content,
                 [(tc.index, tc.name, tc.arguments, tc.id is not None) for tc in d.tool_calls])
    got = _stream_text(tok, chunks, _request(), hv.NAME, prompt=prompt)
    assert (got.reasoning, got.content, got.calls) == (want.reasoning, want.content, want.calls)
