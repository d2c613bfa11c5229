"""OpenAI / OpenRouter ``chat.completion.chunk`` streaming from hermes_stream deltas.

    chunker = ChunkStream(model="hermes-4-14b")
    for piece in generated_text_pieces:
        for chunk in chunker.feed(parser.feed(piece)):
            send(chunk)                      # a dict, ready for json.dumps / SSE
    for chunk in chunker.finish(parser.finish(), parser.message, prompt_tokens=n_prompt):
        send(chunk)

Reasoning goes out as ``reasoning_content`` (vLLM / DeepSeek naming) or, with
``reasoning_field="reasoning"``, as OpenRouter's ``reasoning``. The last chunks carry
``finish_reason`` (``tool_calls`` when the message has calls without errors, ``length`` when the
caller says generation hit its token limit, else ``stop``) and, with ``include_usage``, a usage
chunk whose ``completion_tokens_details.reasoning_tokens`` is the parser's count.
No import of the ``openai`` package: these are plain dicts matching its types.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

__all__ = ["ChunkStream", "delta_to_chunk_delta", "stream_chunks"]


def delta_to_chunk_delta(delta: Any, reasoning_field: str = "reasoning_content") -> dict[str, Any]:
    """The ``choices[0].delta`` object for one hermes_stream delta (keys only when non-empty)."""
    out: dict[str, Any] = delta.to_openai()
    if reasoning_field != "reasoning_content" and "reasoning_content" in out:
        out[reasoning_field] = out.pop("reasoning_content")
    return out


class ChunkStream:
    """Turns one parser's deltas into ``chat.completion.chunk`` dicts for one choice."""

    def __init__(
        self,
        *,
        model: str,
        completion_id: str | None = None,
        created: int | None = None,
        reasoning_field: str = "reasoning_content",
        include_usage: bool = True,
    ) -> None:
        if reasoning_field not in ("reasoning_content", "reasoning"):
            raise ValueError("reasoning_field must be 'reasoning_content' or 'reasoning'")
        self.model = model
        self.id = completion_id or "chatcmpl-" + secrets.token_hex(12)
        self.created = int(time.time()) if created is None else created
        self.reasoning_field = reasoning_field
        self.include_usage = include_usage
        self._sent_role = False
        self._finished = False

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason,
                         "logprobs": None}],
        }

    def feed(self, delta: Any) -> list[dict[str, Any]]:
        """Chunks for one delta: none when it is empty; the first chunk also carries the role."""
        if self._finished:
            raise RuntimeError("feed() called after finish() on this ChunkStream")
        body = delta_to_chunk_delta(delta, self.reasoning_field)
        if not body:
            return []
        if not self._sent_role:
            body = {"role": "assistant", **body}
            self._sent_role = True
        return [self._chunk(body)]

    def finish(
        self,
        last_delta: Any,
        message: Any,
        *,
        prompt_tokens: int = 0,
        completion_tokens: int | None = None,
        length_limited: bool = False,
    ) -> list[dict[str, Any]]:
        """Chunks for the parser's final delta, the finish chunk and (optionally) usage."""
        out = self.feed(last_delta)
        self._finished = True
        if any(c.error is None for c in message.tool_calls):
            reason = "tool_calls"
        elif length_limited:
            reason = "length"
        else:
            reason = "stop"
        out.append(self._chunk({} if self._sent_role else {"role": "assistant"}, reason))
        if self.include_usage:
            completion = message.reasoning_tokens if completion_tokens is None else completion_tokens
            usage_chunk = self._chunk({})
            usage_chunk["choices"] = []
            usage_chunk["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": prompt_tokens + completion,
                "completion_tokens_details": {"reasoning_tokens": message.reasoning_tokens},
            }
            out.append(usage_chunk)
        return out


def stream_chunks(parser: Any, pieces: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Feed ``pieces`` (str deltas) to ``parser`` and yield every chunk, finish included."""
    finish_opts = {k: kwargs.pop(k) for k in ("prompt_tokens", "completion_tokens", "length_limited")
                   if k in kwargs}
    chunker = ChunkStream(**kwargs)
    for piece in pieces:
        yield from chunker.feed(parser.feed(piece))
    last = parser.finish()
    yield from chunker.finish(last, parser.message, **finish_opts)
