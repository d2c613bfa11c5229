"""OpenAI / OpenRouter chunk streaming, validated by the `openai` package's own types."""

from __future__ import annotations

import json

import pytest
from openai.types.chat import ChatCompletionChunk

import hermes_stream as hs
from hermes_stream.integrations.openai import ChunkStream, stream_chunks

TEXT = ('<think>plan it</think>Checking.\n<tool_call>\n{"name": "get_weather", '
        '"arguments": {"city": "Paris"}}\n</tool_call>')


def _pieces(text: str, n: int = 3) -> list[str]:
    return [text[i : i + n] for i in range(0, len(text), n)]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_chunks_validate_and_reassemble(field: str) -> None:
    parser = hs.StreamParser(id_factory=lambda i: f"call_{i}")
    chunks = list(stream_chunks(parser, _pieces(TEXT), model="hermes-4-14b", reasoning_field=field,
                                completion_id="chatcmpl-x", created=1, prompt_tokens=7,
                                completion_tokens=40))
    json.dumps(chunks)  # plain JSON-serialisable dicts
    parsed = [ChatCompletionChunk.model_validate(c) for c in chunks]
    assert all(c.id == "chatcmpl-x" and c.model == "hermes-4-14b" for c in parsed)
    deltas = [c.choices[0].delta for c in parsed if c.choices]
    assert deltas[0].role == "assistant"
    reasoning = "".join((d.model_extra or {}).get(field, "") for d in deltas)
    content = "".join(d.content or "" for d in deltas)
    assert (reasoning, content) == ("plan it", "Checking.\n")
    calls = [tc for d in deltas for tc in (d.tool_calls or [])]
    assert calls[0].id == "call_0" and calls[0].type == "function"
    assert calls[0].function.name == "get_weather"
    assert "".join(tc.function.arguments or "" for tc in calls) == '{"city": "Paris"}'
    finals = [c.choices[0].finish_reason for c in parsed if c.choices]
    assert finals[-1] == "tool_calls" and all(f is None for f in finals[:-1])
    usage = parsed[-1].usage
    assert usage is not None and parsed[-1].choices == []
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (7, 40, 47)
    assert usage.completion_tokens_details.reasoning_tokens == parser.message.reasoning_tokens


@pytest.mark.parametrize(("text", "length", "reason"), [
    ("<think>a</think>done", False, "stop"),
    ("<think>a</think>cut of", True, "length"),
    ('<tool_call>{"name": "f", "arguments": {"a": </tool_call>', False, "stop"),  # error call
])
def test_finish_reason(text: str, length: bool, reason: str) -> None:
    parser = hs.StreamParser()
    chunker = ChunkStream(model="m", include_usage=False)
    for piece in _pieces(text):
        chunker.feed(parser.feed(piece))
    out = chunker.finish(parser.finish(), parser.message, length_limited=length)
    assert out[-1]["choices"][0]["finish_reason"] == reason
    ChatCompletionChunk.model_validate(out[-1])


def test_empty_deltas_send_nothing_and_misuse_raises() -> None:
    chunker = ChunkStream(model="m")
    parser = hs.StreamParser()
    assert chunker.feed(parser.feed("<thi")) == []  # held tag prefix: nothing to send
    chunker.finish(parser.finish(), parser.message)
    with pytest.raises(RuntimeError):
        chunker.feed(parser.message)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ChunkStream(model="m", reasoning_field="thoughts")
