"""hs.render and hs.apply_chat_template (issue 5, SPEC §3).

Every rendering test runs both backends (native ``hs.render`` and the pure-Python
``hermes_stream.reference.render``) and compares them, byte for byte, with the official templates
rendered by Jinja in transformers' environment (always: jinja2 with transformers' settings and
``tojson``) and by live transformers ``apply_chat_template(..., tokenize=False)`` (transformers is
a test dependency). Where the template raises, both backends raise the same ``hs.TemplateError``.
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import enum
import functools
import json
import random
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

import hermes_stream as hs
from hermes_stream import _render
from hermes_stream._chat import template_data
from hermes_stream.reference.chat_template import render as reference_render

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
GOLDENS = REFERENCE / "goldens" / "transformers-renders.json"
QWEN3 = REFERENCE / "tokenizers" / "qwen3"
TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "data" / "chat_templates"
TEMPLATES = {
    "hermes-4-14b": (TEMPLATE_DIR / "hermes-4-14b.jinja").read_text(encoding="utf-8"),
    "llama3": (TEMPLATE_DIR / "hermes-4-70b.jinja").read_text(encoding="utf-8"),
}
MODELS = ["hermes-4-14b", "hermes-4-70b", "hermes-4-405b", "hermes-4.3-36b"]
SEED_BOS = "<seed:bos>"  # Hermes-4.3-36B's bos per a third-party note; any str works here

try:  # transformers' own conversion of template inputs, when it is installed
    from transformers.utils.chat_template_utils import _plain_template_data as plain_data
except ImportError:  # pragma: no cover - transformers is a test dependency
    plain_data = template_data


def template_text(model: str) -> str:
    return TEMPLATES["hermes-4-14b" if model == "hermes-4-14b" else "llama3"]


def default_bos(model: str) -> str | None:
    return {"hermes-4-70b": "<|begin_of_text|>", "hermes-4-405b": "<|begin_of_text|>"}.get(model)


@pytest.fixture
def render(backend: Any) -> Callable[..., str]:
    """The renderer of the ``backend`` fixture (conftest.py): native, then reference."""
    return backend.render


# ----------------------------------------------------------------------------- Jinja peers
def _tojson(x: Any, ensure_ascii: bool = False, indent: Any = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


@functools.cache
def _compiled(key: str) -> jinja2.Template:
    # Exactly transformers' environment (utils/chat_template_utils.py): sandboxed, trim_blocks,
    # lstrip_blocks, loopcontrols, its tojson (no sorting, no HTML escaping, non-ASCII kept).
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    return env.from_string(TEMPLATES[key])


def jinja_render(messages: Any, *, model: str = "hermes-4-14b", tools: Any = None,
                 thinking: bool = False, keep_cots: bool = False,
                 add_generation_prompt: bool = False, bos_token: str | None = None) -> str:
    """The official template rendered by plain jinja2, with apply_chat_template's input steps."""
    key = "hermes-4-14b" if model == "hermes-4-14b" else "llama3"
    msgs = [plain_data({k: v for k, v in m.items() if v is not None}) for m in messages]
    bos = bos_token if bos_token is not None else default_bos(model)
    extra = {} if bos is None else {"bos_token": bos}
    return _compiled(key).render(
        messages=msgs, tools=plain_data(tools), documents=None,
        add_generation_prompt=add_generation_prompt, thinking=thinking, keep_cots=keep_cots,
        **extra,
    )


@functools.lru_cache(maxsize=1)
def hf_tokenizer() -> Any:
    """A tiny transformers tokenizer (vocabulary irrelevant: tokenize=False) or None."""
    try:
        from tokenizers import Tokenizer, models
        from transformers import PreTrainedTokenizerFast
    except ImportError:  # pragma: no cover - transformers is a test dependency
        return None
    tok = Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]"))
    return PreTrainedTokenizerFast(tokenizer_object=tok)


def hf_render(messages: Any, *, model: str = "hermes-4-14b", tools: Any = None,
              thinking: bool = False, keep_cots: bool = False,
              add_generation_prompt: bool = False, bos_token: str | None = None) -> str:
    """Live transformers: tokenizer.apply_chat_template(..., tokenize=False)."""
    bos = bos_token if bos_token is not None else default_bos(model)
    extra = {} if bos is None else {"bos_token": bos}
    return hf_tokenizer().apply_chat_template(  # type: ignore[no-any-return]
        messages, tools=tools, chat_template=template_text(model), tokenize=False,
        add_generation_prompt=add_generation_prompt, thinking=thinking, keep_cots=keep_cots,
        **extra,
    )


def outcome(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return ("ok", fn(*args, **kwargs))
    except hs.TemplateError as exc:
        return ("TemplateError", str(exc))
    except Exception as exc:  # Jinja and transformers raise many kinds
        return ("raised", type(exc).__name__)


def check(messages: Any, tools: Any = None, **opts: Any) -> tuple[str, Any]:
    """native == reference (output or error), == Jinja and == transformers; inputs untouched."""
    before = copy.deepcopy((messages, tools))
    native = outcome(hs.render, messages, tools=tools, **opts)
    ref = outcome(reference_render, messages, tools=tools, **opts)
    assert native == ref
    peers = [("jinja2", jinja_render)]
    if hf_tokenizer() is not None:
        peers.append(("transformers", hf_render))
    for name, peer in peers:
        got = outcome(peer, messages, tools=tools, **opts)
        if native[0] == "ok":
            assert got == native, f"{name} differs"
        else:
            assert got[0] != "ok", f"{name} renders what hs.render rejects: {native[1]}"
    assert (messages, tools) == before, "render() modified its inputs"
    return native


# ----------------------------------------------------------------------------- goldens
def _goldens() -> list[dict[str, Any]]:
    if not GOLDENS.is_file():
        return []
    cases = json.loads(GOLDENS.read_text(encoding="utf-8"))["cases"]
    return [c for c in cases if c["template"] in ("hermes-4-14b.jinja", "hermes-4-70b.jinja")]


GOLDEN_CASES = _goldens()
needs_goldens = pytest.mark.skipif(
    not GOLDEN_CASES, reason=f"{GOLDENS} is absent: the goldens need ../shared/reference"
)


def _golden_args(case: dict[str, Any], model: str) -> tuple[list[Any], dict[str, Any]]:
    kw = dict(case["kwargs"])
    return case["messages"], dict(model=model, tools=case["tools"],
                                  add_generation_prompt=case["add_generation_prompt"], **kw)


@needs_goldens
@pytest.mark.parametrize("case", GOLDEN_CASES, ids=lambda c: f"{c['template'][:-6]}-{c['id']}")
def test_goldens(render: Callable[..., str], case: dict[str, Any]) -> None:
    models = ["hermes-4-14b"] if "14b" in case["template"] else ["hermes-4-70b", "hermes-4-405b"]
    for model in models:
        messages, kwargs = _golden_args(case, model)
        if "error" in case:
            with pytest.raises(hs.TemplateError, match="has no '</think>'"):
                render(messages, **kwargs)
        else:
            assert render(messages, **kwargs) == case["rendered"]
        # 4.3-36B shares the file: the same text after its own bos
        if model != "hermes-4-14b" and "error" not in case:
            out = render(messages, **{**kwargs, "model": "hermes-4.3-36b", "bos_token": SEED_BOS})
            assert out == SEED_BOS + case["rendered"][len("<|begin_of_text|>"):]


def test_vendored_templates_are_the_official_ones() -> None:
    import hashlib

    for key, text in TEMPLATES.items():
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        assert _render.HERMES_TEMPLATE_SHA256[digest] is (key == "llama3")
    for name in ("hermes-4-14b", "hermes-4-70b", "hermes-4-405b", "hermes-4.3-36b"):
        path = REFERENCE / f"{name}.jinja"
        if path.is_file():
            assert path.read_text(encoding="utf-8") == template_text(name)


# ----------------------------------------------------------------------------- explicit cases
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather — in °C <b>&</b>",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 1e16},
        "scale": {"type": "number", "default": 0.1}, "unit": {"enum": ["c", "f", None]}},
        "required": ["city"]}}}


def test_tools_tojson_matches_json_dumps(render: Callable[..., str]) -> None:
    out = render([{"role": "user", "content": "hi"}], tools=[WEATHER])
    assert "\n" + json.dumps(WEATHER, ensure_ascii=False) + "\n</tools>" in out
    assert '"maximum": 1e+16' in out and '"default": 0.1' in out and "°C <b>&</b>" in out
    check([{"role": "user", "content": "hi"}], [WEATHER])


@pytest.mark.parametrize("wrapped", [True, False])
def test_tool_call_arguments_dict_and_string(render: Callable[..., str], wrapped: bool) -> None:
    def call(args: Any) -> dict[str, Any]:
        fn = {"name": "get_weather", "arguments": args}
        return {"id": "c1", "type": "function", "function": fn} if wrapped else fn

    messages = [
        {"role": "user", "content": "Paris?"},
        {"role": "assistant", "content": None,
         "tool_calls": [call({"city": "Paris", "n": 3}), call('{"city": "Oslo"}')]},
        {"role": "tool", "content": "20"}, {"role": "tool", "content": "5"},
    ]
    out = render(messages, tools=[WEATHER])
    assert ('<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": '
            '{"city": "Paris", "n": 3}}\n</tool_call>\n<tool_call>\n{"name": "get_weather", '
            '"arguments": "{\\"city\\": \\"Oslo\\"}"}\n</tool_call><|im_end|>\n') in out
    assert out.endswith("<|im_start|>user\n<tool_response>\n20\n</tool_response>\n"
                        "<tool_response>\n5\n</tool_response><|im_end|>\n")
    for model in MODELS:
        check(messages, [WEATHER], model=model, bos_token=SEED_BOS if "4.3" in model else None)


def test_numbers_and_strings_like_json_dumps(render: Callable[..., str]) -> None:
    args = {"f": [1e16, 1e15, 1e-5, 1e-4, 0.1, -0.0, 1.5e300, 5e-324, float("inf"),
                  float("-inf"), float("nan")],
            "i": [0, -1, 2**63, -(2**63) - 1, 10**40, True, False, None],
            "s": "\x00\x08\t\n\x0b\x0c\r\x1f\x7f\"\\/é€😀\u2028",
            1: "int key", 2.5: "float key", None: "none key", "b": {True: "bool key"},
            float("nan"): "nan key", "nested": {"t": (1, [2, {"": ()}])}}
    messages = [{"role": "user", "content": "x"},
                {"role": "assistant", "tool_calls": [{"name": "n", "arguments": args}]}]
    out = render(messages)
    assert json.dumps(args, ensure_ascii=False) in out
    check(messages)


def test_floats_like_repr(render: Callable[..., str]) -> None:
    # The native tojson formats floats itself (shortest round-trip digits, CPython's layout).
    rng = random.Random(5)
    floats = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
              for _ in range(5000)]
    floats += [rng.uniform(-1, 1) * 10.0 ** rng.randint(-323, 307) for _ in range(5000)]
    floats += [round(rng.uniform(-1e6, 1e6), rng.randint(0, 8)) for _ in range(5000)]
    floats += [s * 10.0 ** e for e in range(-8, 24) for s in (1.0, -1.0, 1.5, 9.999999999999998)]
    floats += [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 0.2, 0.3, 1e-4,
               1e-5, 9999999999999998.0, 123456789012345678.0]
    messages = [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": floats}]}]
    assert '"arguments": ' + json.dumps(floats) + "}" in render(messages)


def test_jinja_value_printing(render: Callable[..., str]) -> None:
    # {{ value }} prints str(value): numbers, bools, None inside a name, lists and dicts as repr
    messages = [
        {"role": "tool", "content": 3.0},
        {"role": "tool", "content": [{"type": "text", "text": "hi"}]},
        {"role": "tool", "content": False},
        {"role": "tool"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": None, "arguments": None}},
            {"function": {"name": 7, "arguments": []}},
            {"function": {"arguments": {}}}]},
    ]
    out = render(messages)
    assert "<tool_response>\n3.0\n" in out and "[{'type': 'text', 'text': 'hi'}]" in out
    assert "<tool_response>\nFalse\n" in out and "<tool_response>\n\n</tool_response>" in out
    assert '{"name": "None", "arguments": null}' in out and '{"name": "7", "arguments": []}' in out
    assert '{"name": "", "arguments": {}}' in out
    check(messages)


def test_template_quirks(render: Callable[..., str]) -> None:
    cases: list[tuple[list[dict[str, Any]], dict[str, Any]]] = [
        # empty assistant content: only the header, no end token
        ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""},
          {"role": "user", "content": "x"}], {}),
        # later system messages are ordinary turns; unknown roles are skipped
        ([{"role": "user", "content": "hi"}, {"role": "system", "content": "French"},
          {"role": "developer", "content": "ignored"}, {"role": "user", "content": "bonjour"}], {}),
        # a first tool message opens the user turn; runs of tool results share it
        ([{"role": "tool", "content": "a"}, {"role": "tool", "content": "b"},
          {"role": "user", "content": "c"}, {"role": "tool", "content": "d"}], {}),
        # tools branch with a system message whose content is missing prints nothing for it
        ([{"role": "system"}, {"role": "user", "content": "u"}], {"tools": [WEATHER]}),
        # tool_calls: [] is falsy (plain assistant branch)
        ([{"role": "assistant", "content": "<think>r</think>a", "tool_calls": []}],
         {"thinking": True}),
        # reasoning kept without thinking, stripped with it (split at the first </think> only)
        ([{"role": "assistant", "content": "<think>a</think>b</think>c"}], {}),
        ([{"role": "assistant", "content": "<think>a</think>b</think>c"}], {"thinking": True}),
        ([{"role": "assistant", "content": "<think>a</think>b"}],
         {"thinking": True, "keep_cots": True}),
        # thinking changes only the default system prompt
        ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q"}],
         {"thinking": True, "add_generation_prompt": True}),
    ]
    for messages, opts in cases:
        for model in MODELS:
            kind, value = check(messages, model=model, bos_token="<B>", **opts)
            assert kind == "ok", value
    out = render(cases[0][0], add_generation_prompt=True)
    assert "<|im_start|>assistant<|im_start|>user\nx" in out
    out = render(cases[6][0], thinking=True)
    assert out.endswith("<|im_start|>assistant\n<think> </think>b</think>c<|im_end|>\n")


def test_default_bos_and_required_bos(render: Callable[..., str]) -> None:
    msgs = [{"role": "user", "content": "hi"}]
    assert render(msgs, model="hermes-4-70b").startswith("<|begin_of_text|><|start_header_id|>")
    assert render(msgs, model="hermes-4-405b", bos_token="<s>").startswith("<s><|start_header_id|>")
    assert render(msgs, model="NousResearch/Hermes-4-405B") == render(msgs, model="hermes-4-70b")
    assert render(msgs, model="hermes-4-14b", bos_token="<s>") == render(msgs)
    with pytest.raises(hs.TemplateError, match=r"hermes-4\.3-36b needs bos_token"):
        render(msgs, model="hermes-4.3-36b")
    assert render(msgs, model="hermes-4.3-36b", bos_token=SEED_BOS).startswith(SEED_BOS + "<|start")


# ----------------------------------------------------------------------------- errors
ERROR_CASES: list[tuple[str, list[Any], dict[str, Any], str]] = [
    ("no-think", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
     {"thinking": True}, "message 1 (assistant): content has no '</think>'"),
    ("no-think-with-calls", [{"role": "assistant", "content": "calling",
                              "tool_calls": [{"name": "f", "arguments": {}}]}],
     {"thinking": True}, "message 0 (assistant): content has no '</think>'"),
    ("user-none", [{"role": "user", "content": None}], {},
     "message 0 (user): content is missing or None"),
    ("user-missing", [{"role": "system", "content": "s"}, {"role": "user"}], {},
     "message 1 (user): content is missing or None"),
    ("system-missing", [{"role": "system"}], {}, "message 0 (system): content is missing"),
    ("later-system-list", [{"role": "user", "content": "u"},
                           {"role": "system", "content": ["a"]}], {},
     "message 1 (system): content must be a str (the template concatenates it with +), got list"),
    ("assistant-dict", [{"role": "assistant", "content": {"a": 1}}], {},
     "message 0 (assistant): content must be a str (the template concatenates it with +), got dict"),
    ("assistant-list-thinking", [{"role": "assistant", "content": [1]}], {"thinking": True},
     "content.split('</think>', 1) on it), got list"),
    ("tool-calls-str", [{"role": "assistant", "tool_calls": "x"}], {},
     "message 0 (assistant): tool_calls must be a list, got str"),
    ("tool-calls-dict", [{"role": "assistant", "tool_calls": {"name": "f"}}], {},
     "tool_calls must be a list, got dict"),
    ("tool-calls-int", [{"role": "assistant", "tool_calls": 1}], {},
     "tool_calls must be a list, got int"),
    ("call-str", [{"role": "assistant", "tool_calls": ["f()"]}], {},
     "tool call 0 must be an object with 'name' and 'arguments', got str"),
    ("call-no-arguments", [{"role": "assistant", "tool_calls": [
        {"name": "a", "arguments": {}}, {"function": {"name": "f"}}]}], {},
     "message 0 (assistant): tool call 1 has no 'arguments'"),
    ("function-none", [{"role": "assistant", "tool_calls": [{"function": None}]}], {},
     "tool call 0: 'function' must be an object with 'name' and 'arguments', got NoneType"),
    ("empty", [], {}, "messages is empty"),
    ("empty-tools", [], {"tools": [WEATHER]}, "messages is empty"),
    ("first-error-wins", [{"role": "user"}, {"role": "assistant", "tool_calls": 1}], {},
     "message 0 (user)"),
    ("tuple-key", [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": {(1,): 2}}]}],
     {}, "tool call 0 arguments cannot be serialised by tojson"),
    ("tool-tuple-key", [{"role": "user", "content": "u"}], {"tools": [{(1, 2): "x"}]},
     "tools[0] cannot be serialised by tojson"),
]


@pytest.mark.parametrize(("messages", "opts", "match"), [c[1:] for c in ERROR_CASES],
                         ids=[c[0] for c in ERROR_CASES])
def test_template_errors(render: Callable[..., str], messages: list[Any], opts: dict[str, Any],
                         match: str) -> None:
    for model in MODELS:
        with pytest.raises(hs.TemplateError) as info:
            render(messages, model=model, bos_token="<B>", **opts)
        assert match in str(info.value)
        assert isinstance(info.value, ValueError)
        kind, message = check(messages, model=model, bos_token="<B>", **opts)
        assert (kind, message) == ("TemplateError", str(info.value))


def test_misuse_raises(render: Callable[..., str]) -> None:
    msgs = [{"role": "user", "content": "hi"}]
    with pytest.raises(ValueError, match="unknown model 'llama'"):
        render(msgs, model="llama")
    with pytest.raises(ValueError, match="thinking_system must be None or 'append'"):
        render(msgs, thinking_system="prepend")
    with pytest.raises(TypeError, match="message 1 must be a dict, got str"):
        render([msgs[0], "hello"])
    with pytest.raises(TypeError, match="messages must be a list"):
        render("hello")
    with pytest.raises(TypeError, match=r"tools\[0\] must be a dict"):
        render(msgs, tools=[len])
    with pytest.raises(TypeError, match="bos_token must be a str"):
        render(msgs, model="hermes-4-70b", bos_token=1)


# ----------------------------------------------------------------------------- the Python path
class Role(str, enum.Enum):
    USER = "user"


class Level(enum.IntEnum):
    HIGH = 3


class Plain(enum.Enum):
    A = 1


@dataclasses.dataclass
class Point:
    x: float
    y: Any


class Frozen(collections.UserDict):  # a Mapping that is not a dict
    pass


def test_inputs_transformers_converts(render: Callable[..., str]) -> None:
    # Not plain data: the glue hands these to the reference, which converts them as transformers
    # does (str/int subclasses, mappings, dataclasses, placeholders for other objects).
    messages = [
        collections.OrderedDict(role="system", content="sys"),
        {"role": Role.USER, "content": "enum role"},
        {"role": "assistant", "content": "a", "tool_calls": [
            {"function": {"name": Role.USER, "arguments": {
                "level": Level.HIGH, "p": Point(1.5, {"z": b"raw"}), "s": {1}, "e": Plain.A,
                "m": Frozen(k=1)}}}]},
        {"role": "tool", "content": Point(0.0, None)},
        Frozen(role="user", content="from a Mapping"),
    ]
    out = render(messages)
    assert "<|im_start|>user\nenum role<|im_end|>" in out
    assert ('{"level": 3, "p": {"x": 1.5, "y": {"z": "<bytes>"}}, "s": "<set>", "e": "<Plain>", '
            '"m": {"k": 1}}') in out
    assert "<tool_response>\n{'x': 0.0, 'y': None}\n" in out
    assert "user\nfrom a Mapping" in out
    assert check(messages)[0] == "ok"


def test_numpy_scalars(render: Callable[..., str]) -> None:
    np = pytest.importorskip("numpy")
    messages = [{"role": "assistant", "tool_calls": [
        {"name": "f", "arguments": {"a": np.float32(0.5), "b": np.int64(7), "c": np.bool_(True)}}]}]
    assert '"arguments": {"a": 0.5, "b": 7, "c": true}' in render(messages)
    assert check(messages)[0] == "ok"


def test_lone_surrogates_render_like_transformers(render: Callable[..., str]) -> None:
    messages = [{"role": "user", "content": "a\ud800b"},
                {"role": "assistant", "tool_calls": [{"name": "f\udfff", "arguments": {"k": "\ud83d"}}]}]
    out = render(messages, tools=[{"name": "t\udc00"}])
    assert "a\ud800b" in out and '"k": "\ud83d"' in out
    assert check(messages, [{"name": "t\udc00"}])[0] == "ok"


def test_deep_nesting(render: Callable[..., str]) -> None:
    deep: Any = "leaf"
    for _ in range(300):
        deep = [deep]
    messages = [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": {"d": deep}}]}]
    assert ("[" * 300 + '"leaf"' + "]" * 300) in render(messages)
    assert check(messages)[0] == "ok"


def test_huge_int_fails_like_json_dumps(render: Callable[..., str]) -> None:
    messages = [{"role": "assistant", "tool_calls": [{"name": "f", "arguments": 10**5000}]}]
    with pytest.raises(hs.TemplateError, match="cannot be serialised by tojson"):
        render(messages)


# ----------------------------------------------------------------------------- extension
def test_thinking_system_append(render: Callable[..., str]) -> None:
    msgs = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "q"}]
    official = render(msgs, thinking=True)
    assert "deep thinking" not in official  # the official template ignores thinking here
    out = render(msgs, thinking=True, thinking_system="append")
    prompt = "Be brief.\n\nYou are a deep thinking AI, you may use extremely long chains"
    assert out.startswith("<|im_start|>system\n" + prompt)
    assert render(msgs, thinking=False, thinking_system="append") == render(msgs)
    with_tools = render(msgs, thinking=True, thinking_system="append", tools=[WEATHER])
    assert with_tools.startswith("<|im_start|>system\n" + prompt)
    assert "problem.\n\n# Tools" in with_tools
    empty = render([{"role": "system", "content": ""}], thinking=True, thinking_system="append")
    assert empty.startswith("<|im_start|>system\nYou are a deep thinking AI")
    no_system = [{"role": "user", "content": "q"}]
    assert render(no_system, thinking=True, thinking_system="append") == render(
        no_system, thinking=True)
    for model in MODELS:
        args = dict(model=model, bos_token="<B>", thinking=True, thinking_system="append")
        assert hs.render(msgs, **args) == reference_render(msgs, **args)


# ----------------------------------------------------------------------------- generated
SPECIAL_TEXTS = [
    "", " ", "\n", "<think>", "</think>", "<think>r</think>", "<think>\nhm\n</think>\n\nok",
    "x</think>y</think>z", "<tool_call>", "<|im_end|>", "é", "日本語", "🦙", '"', "\\", "\x00",
    "\x1f", "\x7f", "\u2028", '{"q": 1}', "{{ x }}", "{% if %}",
]
texts = st.sampled_from(SPECIAL_TEXTS) | st.text(
    st.characters(exclude_categories=("Cs",)), max_size=8)
scalars = (st.none() | st.booleans() | st.integers(-10, 10) | st.integers(-(2**70), 2**70)
           | st.floats() | texts)
keys = texts | texts | st.integers(-3, 3) | st.booleans() | st.none() | st.floats(width=16)
json_values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.tuples(c) | st.dictionaries(keys, c, max_size=3),
    max_leaves=8,
)
arguments = (st.dictionaries(texts, json_values, max_size=3)
             | st.dictionaries(texts, json_values, max_size=3).map(
                 lambda d: json.dumps(d, ensure_ascii=False))
             | json_values)
functions = st.fixed_dictionaries({"arguments": arguments}, optional={"name": texts | scalars})
tool_calls_ok = (functions.map(lambda f: {"id": "call_1", "type": "function", "function": f})
                 | functions)
tool_calls_wild = tool_calls_ok | st.sampled_from(
    [{}, {"function": None}, {"function": "x"}, "str", 5, {"name": "n"}, {"function": {}}])
tools_st = st.lists(
    st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
        {"name": texts, "description": texts, "parameters": json_values})})
    | st.dictionaries(texts, json_values, max_size=3),
    min_size=1, max_size=3,
)


MISSING, NONE = object(), object()  # sentinels: leave the key out / set it to None


@st.composite
def conversations(draw: st.DrawFn, wild: bool) -> tuple[list[Any], Any, dict[str, Any]]:
    model = draw(st.sampled_from(MODELS))
    thinking, keep_cots, generation = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    strip = thinking and not keep_cots
    roles = ["user", "assistant", "assistant", "tool", "system"]
    if wild:
        roles += ["developer", None, 5]
    absent = st.sampled_from([MISSING, NONE])
    messages: list[Any] = []
    for _ in range(draw(st.integers(0 if wild else 1, 7))):
        role = draw(st.sampled_from(roles))
        msg: dict[str, Any] = {"role": role}
        if wild:
            content = draw(absent | texts | json_values)
        elif role == "assistant":
            content = draw(absent | st.just("") | texts)
            if strip and isinstance(content, str) and content:
                content = draw(texts) + "</think>" + content  # the template needs one here
        else:
            content = draw(texts)
        if content is NONE:
            msg["content"] = None
        elif content is not MISSING:
            msg["content"] = content
        if role == "assistant" or (wild and draw(st.booleans())):
            calls = draw(st.sampled_from([MISSING, None, []]) | st.lists(
                tool_calls_wild if wild else tool_calls_ok, min_size=1, max_size=3))
            if wild:
                calls = draw(st.just(calls) | st.sampled_from(["x", {"a": 1}, 1, True, 0, ""]))
            if calls is not MISSING:
                msg["tool_calls"] = calls
        messages.append(msg)
    tools = draw(st.none() | st.just([]) | tools_st)
    bos = SEED_BOS if model == "hermes-4.3-36b" else draw(st.sampled_from([None, "<B>"]))
    opts = dict(model=model, thinking=thinking, keep_cots=keep_cots,
                add_generation_prompt=generation, bos_token=bos)
    return messages, tools, opts


_generated = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_generated
@given(conversations(wild=False))
def test_generated_conversations_match_jinja_and_transformers(
    case: tuple[list[Any], Any, dict[str, Any]],
) -> None:
    messages, tools, opts = case
    kind, value = check(messages, tools, **opts)
    assert kind == "ok", value  # these inputs are all renderable


@_generated
@given(conversations(wild=True))
def test_generated_wild_inputs_match_or_raise_together(
    case: tuple[list[Any], Any, dict[str, Any]],
) -> None:
    messages, tools, opts = case
    check(messages, tools, **opts)


# ----------------------------------------------------------------------------- threads
def test_concurrent_renders_agree() -> None:
    messages = [{"role": "user", "content": "é" * 50}] + [
        {"role": "assistant", "content": f"<think>r{i}</think>a{i}",
         "tool_calls": [{"name": "f", "arguments": {"i": i, "x": [1.5] * 20}}]}
        for i in range(30)]
    expected = reference_render(messages, tools=[WEATHER] * 5, thinking=True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(200):
                assert hs.render(messages, tools=[WEATHER] * 5, thinking=True) == expected
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)


# ----------------------------------------------------------------------------- apply_chat_template
def _spy_tokenizer(tok: Any) -> Any:
    """``tok`` with a counting apply_chat_template (signature kept, so the native path applies)."""
    base = type(tok)
    original = base.apply_chat_template

    @functools.wraps(original)
    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        self.delegated += 1
        return original(self, *args, **kwargs)

    tok.__class__ = type(f"Spy{base.__name__}", (base,), {"apply_chat_template": spy})
    tok.delegated = 0
    return tok


@pytest.fixture
def tiny_tok() -> Any:
    pytest.importorskip("transformers", reason="apply_chat_template tests need transformers")
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"[UNK]": 0}, unk_token="[UNK]")))
    tok.chat_template = TEMPLATES["hermes-4-14b"]
    tok = _spy_tokenizer(tok)
    hs.apply_chat_template(tok, [{"role": "user", "content": "warm-up"}], tokenize=False)
    tok.delegated = 0  # the one-time behaviour probe
    return tok


@pytest.fixture(scope="module")
def qwen_tok() -> Any:
    pytest.importorskip("transformers", reason="apply_chat_template tests need transformers")
    if not QWEN3.is_dir():
        pytest.skip(f"{QWEN3} is absent: tokenize=True tests need the Qwen3 tokenizer")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(QWEN3))


CONV = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris? ünï 🦙"},
    {"role": "assistant", "content": "<think>call</think>", "tool_calls": [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
    {"role": "tool", "content": '{"temp": 20}'},
    {"role": "assistant", "content": "<think>done</think>20 °C."},
    {"role": "user", "content": "Thanks <|im_end|>"},
]


@pytest.mark.parametrize("kwargs", [
    {"tokenize": False},
    {"tokenize": False, "add_generation_prompt": True, "tools": [WEATHER]},
    {"tokenize": False, "thinking": True},
    {"tokenize": False, "thinking": True, "keep_cots": True, "enable_thinking": True},
    {"tokenize": False, "chat_template": TEMPLATES["llama3"], "bos_token": "<|begin_of_text|>"},
], ids=["plain", "tools", "thinking", "keep_cots", "llama3"])
def test_apply_chat_template_native_path(tiny_tok: Any, kwargs: dict[str, Any]) -> None:
    got = hs.apply_chat_template(tiny_tok, CONV, **kwargs)
    assert tiny_tok.delegated == 0, "the native path was not taken"
    assert got == tiny_tok.apply_chat_template(CONV, **kwargs)


def test_apply_chat_template_batched_and_bos_from_tokenizer(tiny_tok: Any) -> None:
    tiny_tok.chat_template = TEMPLATES["llama3"]
    tiny_tok.bos_token = "<|begin_of_text|>"
    batch = [CONV, CONV[:2]]
    got = hs.apply_chat_template(tiny_tok, batch, tokenize=False, add_generation_prompt=True)
    assert tiny_tok.delegated == 0
    assert got == tiny_tok.apply_chat_template(batch, tokenize=False, add_generation_prompt=True)
    assert got[1].startswith("<|begin_of_text|><|start_header_id|>system")


@pytest.mark.parametrize(("kwargs", "why"), [
    ({"tokenize": False, "chat_template": "{{ messages[0]['content'] }}"}, "unknown template"),
    ({"tokenize": False, "documents": [{"title": "t", "text": "x"}]}, "documents"),
    ({"tokenize": False, "continue_final_message": True}, "continue_final_message"),
    ({"tokenize": False, "tools": [lambda city: city]}, "callable tool"),
    ({"tokenize": False, "thinking": object()}, "non-plain flag"),
    ({"tokenize": True, "sanitize_control_tokens": True}, "sanitize_control_tokens"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_apply_chat_template_delegates(tiny_tok: Any, kwargs: dict[str, Any], why: str) -> None:
    conv = CONV[:2]
    expected = outcome(tiny_tok.apply_chat_template, conv, **kwargs)
    tiny_tok.delegated = 0
    got = outcome(hs.apply_chat_template, tiny_tok, conv, **kwargs)
    assert tiny_tok.delegated == 1, why
    if expected[0] == "ok" and not isinstance(expected[1], str):
        return  # a BatchEncoding: compared elsewhere
    assert got == expected


def test_apply_chat_template_errors_are_transformers_own(tiny_tok: Any) -> None:
    bad = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    with pytest.raises(jinja2.exceptions.UndefinedError, match="no element 1"):
        hs.apply_chat_template(tiny_tok, bad, tokenize=False, thinking=True)
    assert tiny_tok.delegated == 1
    with pytest.raises(ValueError, match="empty conversation"):
        hs.apply_chat_template(tiny_tok, [], tokenize=False)
    tiny_tok.chat_template = TEMPLATES["llama3"]  # no bos anywhere: transformers raises
    with pytest.raises(jinja2.exceptions.UndefinedError, match="bos_token"):
        hs.apply_chat_template(tiny_tok, CONV, tokenize=False)


def test_apply_chat_template_unknown_template_delegates_every_call(tiny_tok: Any) -> None:
    tiny_tok.chat_template = TEMPLATES["hermes-4-14b"].replace("Nous Research", "Nous  Research")
    for _ in range(3):
        got = hs.apply_chat_template(tiny_tok, CONV, tokenize=False)
        assert got == tiny_tok.apply_chat_template(CONV, tokenize=False)
    assert tiny_tok.delegated == 6  # 3 delegated + 3 direct


@pytest.mark.parametrize("kwargs", [
    {},
    {"return_dict": False},
    {"return_dict": True, "add_generation_prompt": True, "tools": [WEATHER], "thinking": True},
    {"return_dict": False, "tokenizer_kwargs": {"return_offsets_mapping": True}},
    {"padding": True, "return_tensors": "np"},
], ids=["defaults", "ids", "dict-tools", "tokenizer-kwargs", "batch-padded"])
def test_apply_chat_template_tokenize_true(qwen_tok: Any, kwargs: dict[str, Any]) -> None:
    tok = copy.copy(qwen_tok)
    tok.chat_template = TEMPLATES["hermes-4-14b"]
    conv: Any = [CONV, CONV[:2]] if "padding" in kwargs else CONV
    got = hs.apply_chat_template(tok, conv, **kwargs)
    expected = tok.apply_chat_template(conv, **kwargs)
    assert type(got) is type(expected)
    if isinstance(expected, list):
        assert got == expected
    else:
        assert set(got.keys()) == set(expected.keys())
        for key in expected:
            assert repr(got[key]) == repr(expected[key]), key


@needs_goldens
def test_goldens_token_ids(qwen_tok: Any) -> None:
    tok = copy.copy(qwen_tok)
    tok.chat_template = TEMPLATES["hermes-4-14b"]
    for case in GOLDEN_CASES:
        if "qwen3_ids" not in case:
            continue
        ids = hs.apply_chat_template(
            tok, case["messages"], tools=case["tools"], tokenize=True, return_dict=False,
            add_generation_prompt=case["add_generation_prompt"], **case["kwargs"])
        assert ids == case["qwen3_ids"], case["id"]
