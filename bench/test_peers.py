"""Optional peers: vLLM's and SGLang's parsers on the same streams as ours, through their servers'
own streaming paths (see peer_drivers.py).

Neither peer is a dependency: every benchmark here skips with the reason when the peer (or a
module its parsers import) is missing. Install them with ``bench/peers/install.sh``.

Before a peer is timed, its output is checked against the workload's expected output (which our
parser reproduces exactly: test_stream.py / test_tool_calls.py assert it): the reasoning/content
split for the think streams, the calls (names and parsed arguments) and the reasoning for the
tool streams. A peer that gets it wrong is not timed as if it were equal: the test xfails with
what was wrong, and the terminal summary lists it.

Streams: the think streams of test_stream.py (N = 7.5K / 30K / 120K reasoning tokens), and the
tool streams of test_tool_calls.py (3calls; one call with a 3K-, 7.5K- or 30K-token argument
string). Peers whose cost per delta grows with the stream (they re-scan or copy the accumulated
text) run on the sizes where a round takes seconds, not minutes; the README gives the growth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import hermes_stream as hs
import peer_drivers as pd
import tool_workloads
from harness import PEER_PROBLEMS, SIZES, SMOKE, feed_all, measure, stream

# The peers' own imports and calls warn (deprecations in torch, transformers, pydantic); the
# suite's "warnings are errors" rule is for our code.
pytestmark = pytest.mark.filterwarnings("ignore")

#: Think-stream peers: key -> (engine, factory, sizes). Growing peers skip the 120K stream.
THINK_PEERS: dict[str, tuple[str, Callable[[], Any], tuple[int, ...]]] = {
    "vllm_deepseek_r1": ("vllm", lambda: pd.vllm_parser_stream("deepseek_r1", None), SIZES[:2]),
    "vllm_qwen3": ("vllm", lambda: pd.vllm_parser_stream("qwen3", None), SIZES[:2]),
    "vllm_qwen3+hermes": ("vllm", lambda: pd.vllm_parser_stream("qwen3", "hermes", ["search"]),
                          SIZES[:2]),
    "sglang_deepseek_r1": ("sglang", lambda: pd.sglang_stream("deepseek-r1", None), SIZES),
    "sglang_qwen3": ("sglang", lambda: pd.sglang_stream("qwen3", None), SIZES),
    "sglang_qwen3+hermes": ("sglang", lambda: pd.sglang_stream("qwen3", "hermes", ["search"]),
                            SIZES),
}

_TOOL_SIZES = (300, 750, 3_000) if SMOKE else (3_000, 7_500, 30_000)
TOOL_STREAMS = {
    "3calls": tool_workloads.three_calls(200 if SMOKE else 2_000),
    "longarg_3k": tool_workloads.long_argument(_TOOL_SIZES[0]),
    "longarg_7.5k": tool_workloads.long_argument(_TOOL_SIZES[1]),
    "longarg_30k": tool_workloads.long_argument(_TOOL_SIZES[2]),
}
_TOOL_NAMES = sorted({n for s in TOOL_STREAMS.values() for n, _ in s.calls})
_ALL = tuple(TOOL_STREAMS)
_NO_30K = ("3calls", "longarg_3k", "longarg_7.5k")

#: Tool-stream peers: key -> (engine, factory, streams it runs on, takes token ids).
TOOL_PEERS: dict[str, tuple[str, Callable[[], Any], tuple[str, ...], bool]] = {
    # vLLM's hermes ToolParser alone, legacy convention (reasoning is content to it).
    "vllm_hermes": ("vllm", lambda: pd.vllm_tool_parser_stream("hermes", _TOOL_NAMES), _ALL, True),
    # What `vllm serve --reasoning-parser qwen3|deepseek_r1 --tool-call-parser hermes` runs.
    "vllm_qwen3+hermes": ("vllm", lambda: pd.vllm_parser_stream("qwen3", "hermes", _TOOL_NAMES),
                          _ALL, True),
    "vllm_deepseek_r1+hermes": (
        "vllm", lambda: pd.vllm_parser_stream("deepseek_r1", "hermes", _TOOL_NAMES), _ALL, True),
    # SGLang's detectors re-parse the whole buffered call per chunk: milliseconds per delta.
    "sglang_qwen3+hermes": ("sglang", lambda: pd.sglang_stream("qwen3", "hermes", _TOOL_NAMES),
                            _NO_30K, False),
    "sglang_qwen3+qwen25": ("sglang", lambda: pd.sglang_stream("qwen3", "qwen25", _TOOL_NAMES),
                            _NO_30K, False),
}

def _make(key: str, engine: str, factory: Callable[[], Any]) -> Any:
    try:
        return factory()
    except pd.PeerUnavailable as exc:
        pytest.skip(str(exc))
    except Exception as exc:  # an API change in an optional peer is a skip, not a failure
        pytest.skip(f"{key}: cannot construct the {engine} parser ({type(exc).__name__}: {exc})")


def _verify(key: str, problems: list[str]) -> None:
    if problems:
        PEER_PROBLEMS[key] = problems
        pytest.xfail(f"{key}: peer output is wrong, not timed: " + "; ".join(problems))


def _think_params() -> list[Any]:
    return [pytest.param(k, n, id=f"{k}@{n}") for k, (_, _, sizes) in THINK_PEERS.items()
            for n in SIZES if n in sizes]


@pytest.mark.parametrize(("key", "n"), _think_params())
def test_think_peer(benchmark: Any, key: str, n: int) -> None:
    engine, factory, _ = THINK_PEERS[key]
    new, run = _make(key, engine, factory)
    s = stream(n)
    ids = pd.token_ids(s.fresh_tokens()) if engine == "vllm" else None
    args = (lambda: (new(), s.fresh_tokens(), ids)) if ids is not None else (
        lambda: (new(), s.fresh_tokens()))
    got = run(*args())
    _verify(f"{key}@{n}", pd.check(got, s.reasoning, None, s.content))
    measure(benchmark, run, key=f"peer_{key}@{n}", group=f"stream-{n}", kind="peer",
            setup=lambda: (args(), {}), n_units=s.n_deltas, unit="delta", n_reasoning=n,
            bytes=s.n_bytes)


def _tool_params() -> list[Any]:
    return [pytest.param(k, name, id=f"{k}@{name}") for k, (_, _, names, _) in TOOL_PEERS.items()
            for name in names]


@pytest.mark.parametrize(("key", "name"), _tool_params())
def test_tool_peer(benchmark: Any, key: str, name: str) -> None:
    engine, factory, _, wants_ids = TOOL_PEERS[key]
    new, run = _make(key, engine, factory)
    s = TOOL_STREAMS[name]
    ids = pd.token_ids(s.fresh_tokens()) if wants_ids else None
    args = (lambda: (new(), s.fresh_tokens(), ids)) if ids is not None else (
        lambda: (new(), s.fresh_tokens()))
    ours = hs.parse(s.text, reasoning_budget=None)
    got = run(*args())
    # The bare vLLM tool parser has no reasoning parser: reasoning is its content.
    reasoning = "" if key == "vllm_hermes" else ours.reasoning
    _verify(f"{key}@{name}", pd.check(got, reasoning, list(s.calls)))
    measure(benchmark, run, key=f"peer_{key}@{name}", group=f"tools-peer-{name}", kind="peer",
            setup=lambda: (args(), {}), n_units=len(s.tokens), unit="delta",
            bytes=len(s.text.encode()))


# Our own parser on the 7.5K-argument stream (the others are in test_tool_calls.py), so the
# peers' growth can be compared with ours on every size they run.
def test_tool_native_7500(benchmark: Any) -> None:
    s = TOOL_STREAMS["longarg_7.5k"]
    p = measure(benchmark, feed_all, key="tc_native@longarg_7.5k", group="tools-peer-longarg_7.5k",
                kind="fast",
                setup=lambda: ((hs.StreamParser(reasoning_budget=None), s.fresh_tokens()), {}),
                n_units=len(s.tokens), unit="delta", bytes=len(s.text.encode()))
    assert [(c.name, c.parsed_arguments) for c in p.message.tool_calls] == list(s.calls)
