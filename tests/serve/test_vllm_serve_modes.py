"""``--tokenizer-mode hermes_stream`` in a real ``vllm serve``: the same prompt ids and the same
generation as the default mode, for the same requests (issue 13).

Two servers per tiny model (conftest.py), identical but for ``--tokenizer-mode hermes_stream`` on
one. Each request is sent to both with ``return_token_ids``: the prompt ids must be equal (tools,
tool calls and results, thinking on and off, ``keep_cots``, multi-turn, text holding added-token
strings), and so must the greedy generation of the random model (no script: the model's own
output), ids and text. The routed server's log must show the mode was active.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Server, model_of

pytestmark = pytest.mark.filterwarnings("ignore")

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                         "required": ["city"]}}}]
CALL = {"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
REQUESTS: dict[str, dict[str, Any]] = {
    "plain": {"messages": [{"role": "user", "content": "Hello there"}]},
    "system_tools": {"messages": [{"role": "system", "content": "Be brief."},
                                  {"role": "user", "content": "Weather in Paris? 🦙"}],
                     "tools": TOOLS},
    "tool_round_trip": {"messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "<think>Use the tool.</think>", "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 °C, clear"},
        {"role": "user", "content": "And tomorrow?"}], "tools": TOOLS},
    "tool_call_no_content": {"messages": [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 °C"}], "tools": TOOLS},
    "thinking": {"messages": [{"role": "user", "content": "2+2?"}],
                 "chat_template_kwargs": {"thinking": True}},
    "thinking_multi_turn_keep_cots": {"messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>easy</think>4"},
        {"role": "user", "content": "  and 3+3? <|im_end|> <|eot_id|> <think>"}],
        "chat_template_kwargs": {"thinking": True, "keep_cots": True}},
    "thinking_multi_turn_stripped": {"messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "<think>easy</think>4"},
        {"role": "user", "content": "and 3+3?"}], "chat_template_kwargs": {"thinking": True}},
}


@pytest.fixture(scope="module", params=["qwen3", "llama3"])
def servers(request: Any, model_dir: Path) -> Iterator[tuple[Server, Server]]:
    model = model_of(request.param, model_dir)
    default = Server(model)
    routed = Server(model, ("--tokenizer-mode", "hermes_stream"))
    try:
        default.wait_healthy()
        routed.wait_healthy()
        yield default, routed
    finally:
        default.stop()
        routed.stop()


def _ask(server: Server, case: dict[str, Any]) -> tuple[Any, Any, str]:
    import openai

    client = openai.OpenAI(base_url=server.base_url, api_key="x", timeout=120)
    extra = {"return_token_ids": True}
    if "chat_template_kwargs" in case:
        extra["chat_template_kwargs"] = case["chat_template_kwargs"]
    kwargs = {k: v for k, v in case.items() if k in ("messages", "tools")}
    r = client.chat.completions.create(model="hermes", max_tokens=8, temperature=0,
                                       extra_body=extra, **kwargs)
    choice = r.choices[0]
    return (getattr(r, "prompt_token_ids", None), getattr(choice, "token_ids", None),
            (choice.message.content or "") + "|" + (getattr(choice.message, "reasoning", "") or ""))


def test_mode_is_active(servers: tuple[Server, Server]) -> None:
    default, routed = servers
    _ask(routed, REQUESTS["plain"])
    assert "hermes_stream tokenizer mode" in routed.tail(10_000)
    assert "hermes_stream tokenizer mode" not in default.tail(10_000)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_same_prompt_ids_and_generation(servers: tuple[Server, Server], name: str) -> None:
    default, routed = servers
    want = _ask(default, REQUESTS[name])
    got = _ask(routed, REQUESTS[name])
    assert want[0], "return_token_ids gave no prompt ids"
    assert got[0] == want[0], f"{name}: prompt ids differ"
    assert got[1:] == want[1:], f"{name}: generation differs"
