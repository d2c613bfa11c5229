"""Chat-template rendering (issue 5): 2-, 20- and 200-message conversations with 5 tools.

Rendered by native ``hs.render``, the drop-in ``hs.apply_chat_template`` (native path), the
pure-Python reference, plain jinja2 (transformers' environment, the template pre-compiled), and
transformers' ``apply_chat_template`` with ``tokenize=False`` and ``tokenize=True`` (the latter
against the drop-in with ``tokenize=True`` and the tokenizer call alone). Every renderer's output
is checked against ``hs.render`` before it is timed.

One round = ``reps`` renders of the same conversation (the unit is one render). The tokenizer is
the Qwen3 one from ../shared/reference (Hermes-4-14B's vocabulary) with the official 14B template;
without it, a tiny stand-in tokenizer serves the tokenize=False peers and the tokenize=True ones
are skipped. Without transformers, its peers and the drop-in are skipped.

    python -m pytest bench/test_render.py --benchmark-only
    python bench/render_report.py            # the same run, then the markdown table with ratios
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import hermes_stream as hs
from harness import SMOKE, measure, repeat
from hermes_stream.reference.chat_template import render as reference_render

ROOT = Path(__file__).resolve().parents[1]
QWEN3 = ROOT.parent / "shared" / "reference" / "tokenizers" / "qwen3"
TEMPLATE = (ROOT / "tests" / "data" / "chat_templates" / "hermes-4-14b.jinja").read_text(
    encoding="utf-8")
SIZES = (2, 20, 200)

# Renders per round: about 10-50 ms per round for each renderer (1 in smoke mode).
REPS: dict[str, dict[int, int]] = {
    "native": {2: 2000, 20: 1000, 200: 200},
    "dropin": {2: 2000, 20: 1000, 200: 200},
    "reference": {2: 200, 20: 100, 200: 20},
    "jinja2": {2: 200, 20: 100, 200: 20},
    "hf": {2: 100, 20: 50, 200: 5},
    "hf_tok": {2: 20, 20: 10, 200: 2},
    "dropin_tok": {2: 20, 20: 10, 200: 2},
    "tokenizer": {2: 20, 20: 10, 200: 2},
}


def _param(name: str, desc: str, kind: str) -> dict[str, Any]:
    return {"type": "object", "properties": {
        name: {"type": kind, "description": desc},
        "unit": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
        "filters": {"type": "object", "properties": {
            "min_score": {"type": "number", "default": 0.5},
            "tags": {"type": "array", "items": {"type": "string"}}}},
    }, "required": [name]}


TOOLS = [
    {"type": "function", "function": {"name": "get_weather",
     "description": "Current weather and a 3-day forecast for a city.",
     "parameters": _param("city", "City name, e.g. Paris or São Paulo", "string")}},
    {"type": "function", "function": {"name": "web_search",
     "description": "Search the web and return the top results with snippets.",
     "parameters": _param("query", "Search query", "string")}},
    {"type": "function", "function": {"name": "read_file",
     "description": "Read a UTF-8 text file from the workspace.",
     "parameters": _param("path", "Path relative to the workspace root", "string")}},
    {"type": "function", "function": {"name": "run_python",
     "description": "Run a short Python snippet in a sandbox; returns stdout.",
     "parameters": _param("code", "The code to run", "string")}},
    {"type": "function", "function": {"name": "convert_currency",
     "description": "Convert an amount between currencies at today's rate (€, $, ¥).",
     "parameters": _param("amount", "Amount to convert", "number")}},
]


def conversation(n: int) -> list[dict[str, Any]]:
    """A deterministic agent conversation of ``n`` messages: a system prompt, then user turns,
    assistant turns with reasoning and tool calls (dict arguments), tool results and answers."""
    msgs: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful assistant. "
                                   "Answer concisely and cite tool results."}]
    i = 0
    while len(msgs) < n:
        tool = TOOLS[i % 5]["function"]["name"]
        step = i % 4
        if step == 0:
            msgs.append({"role": "user", "content": f"Question {i}: what's the weather in Paris "
                         "and how much is 100 € in dollars? Please be precise — merci!"})
        elif step == 1:
            msgs.append({"role": "assistant",
                         "content": f"<think>I should call {tool} first.</think>",
                         "tool_calls": [{"id": f"call_{i}", "type": "function", "function": {
                             "name": tool, "arguments": {"city": "Paris", "limit": 3,
                                                         "filters": {"min_score": 0.75}}}}]})
        elif step == 2:
            msgs.append({"role": "tool", "tool_call_id": f"call_{i - 1}",
                         "content": json.dumps({"temp_c": 21.5, "sky": "clear", "rate": 1.0843})})
        else:
            msgs.append({"role": "assistant", "content": "<think>Combine the results.</think>"
                         "It is 21.5 °C and clear in Paris; 100 € is about $108.43."})
        i += 1
    return msgs[:n]


@functools.lru_cache(maxsize=1)
def hf_tokenizer() -> tuple[Any, bool]:
    """(tokenizer with the 14B template, whether it is the real Qwen3 one)."""
    transformers = pytest.importorskip(
        "transformers", reason="optional peer transformers not installed")
    if QWEN3.is_dir():
        tok = transformers.AutoTokenizer.from_pretrained(str(QWEN3))
        real = True
    else:
        from tokenizers import Tokenizer, models

        tok = transformers.PreTrainedTokenizerFast(
            tokenizer_object=Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
        real = False
    tok.chat_template = TEMPLATE
    return tok, real


@functools.lru_cache(maxsize=1)
def compiled_jinja() -> Any:
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = lambda x, **kw: json.dumps(x, ensure_ascii=False)
    return env.from_string(TEMPLATE)



def _bench(benchmark: Any, name: str, n: int, fn: Callable[[], Any], expected: Any,
           kind: str = "fast") -> None:
    got = fn()
    assert got == expected, f"{name} output differs from hs.render at {n} messages"
    reps = 1 if SMOKE else REPS[name][n]
    measure(benchmark, repeat, key=f"render_{name}@{n}", group=f"render-{n}", n_units=reps,
            unit="render", kind=kind, setup=lambda: ((fn, reps), {}), n_messages=n)


def _expected(n: int) -> str:
    return hs.render(conversation(n), tools=TOOLS, add_generation_prompt=True)


@pytest.mark.parametrize("n", SIZES)
def test_render_native(benchmark: Any, n: int) -> None:
    msgs = conversation(n)
    _bench(benchmark, "native", n,
           lambda: hs.render(msgs, tools=TOOLS, add_generation_prompt=True), _expected(n))


@pytest.mark.parametrize("n", SIZES)
def test_render_reference(benchmark: Any, n: int) -> None:
    msgs = conversation(n)
    _bench(benchmark, "reference", n,
           lambda: reference_render(msgs, tools=TOOLS, add_generation_prompt=True), _expected(n),
           kind="slow")


@pytest.mark.parametrize("n", SIZES)
def test_render_jinja2(benchmark: Any, n: int) -> None:
    msgs, tpl = conversation(n), compiled_jinja()
    _bench(benchmark, "jinja2", n,
           lambda: tpl.render(messages=msgs, tools=TOOLS, add_generation_prompt=True),
           _expected(n), kind="slow")


@pytest.mark.parametrize("n", SIZES)
def test_render_dropin(benchmark: Any, n: int) -> None:
    tok, _ = hf_tokenizer()
    msgs = conversation(n)
    _bench(benchmark, "dropin", n, lambda: hs.apply_chat_template(
        tok, msgs, tools=TOOLS, tokenize=False, add_generation_prompt=True), _expected(n))


@pytest.mark.parametrize("n", SIZES)
def test_render_transformers(benchmark: Any, n: int) -> None:
    tok, _ = hf_tokenizer()
    msgs = conversation(n)
    _bench(benchmark, "hf", n, lambda: tok.apply_chat_template(
        msgs, tools=TOOLS, tokenize=False, add_generation_prompt=True), _expected(n), kind="slow")


def _real_tokenizer() -> Any:
    tok, real = hf_tokenizer()
    if not real:
        pytest.skip(f"{QWEN3} is absent: tokenize=True needs the Qwen3 tokenizer")
    return tok


@pytest.mark.parametrize("n", SIZES)
def test_render_transformers_tokenize(benchmark: Any, n: int) -> None:
    tok = _real_tokenizer()
    msgs = conversation(n)
    ids = tok(_expected(n), add_special_tokens=False)["input_ids"]
    _bench(benchmark, "hf_tok", n, lambda: tok.apply_chat_template(
        msgs, tools=TOOLS, tokenize=True, return_dict=False, add_generation_prompt=True), ids,
        kind="slow")


@pytest.mark.parametrize("n", SIZES)
def test_render_dropin_tokenize(benchmark: Any, n: int) -> None:
    tok = _real_tokenizer()
    msgs = conversation(n)
    ids = tok.apply_chat_template(
        msgs, tools=TOOLS, tokenize=True, return_dict=False, add_generation_prompt=True)
    _bench(benchmark, "dropin_tok", n, lambda: hs.apply_chat_template(
        tok, msgs, tools=TOOLS, tokenize=True, return_dict=False, add_generation_prompt=True),
        ids, kind="slow")


@pytest.mark.parametrize("n", SIZES)
def test_render_tokenizer_alone(benchmark: Any, n: int) -> None:
    tok = _real_tokenizer()
    text = _expected(n)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    _bench(benchmark, "tokenizer", n,
           lambda: tok(text, add_special_tokens=False)["input_ids"], ids, kind="slow")
