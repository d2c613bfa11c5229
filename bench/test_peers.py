"""Optional peers: the ``<think>`` reasoning parsers of vLLM and SGLang on the same streams.

Neither is a dependency; each benchmark skips with the reason when the package (or the parser
class it needs) is not importable. vLLM's parser is driven the way vLLM's OpenAI server drives it
(accumulated text and token ids passed on every delta, so the driver itself is O(n^2)); it runs
on the two smaller streams only. SGLang's parser is incremental and runs on every size.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from harness import SIZES, measure, stream

import baselines


def _import(module: str, attr: str) -> Any:
    package = module.split(".")[0]
    pytest.importorskip(package, reason=f"optional peer {package} not installed")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"{module}.{attr} not available in this version: {exc}")


def _run(benchmark: Any, make: Any, key: str, n: int) -> None:
    s = stream(n)
    try:
        run = make()
    except Exception as exc:  # an API change in an optional peer is a skip, not a failure
        pytest.skip(f"{key}: cannot construct the parser ({type(exc).__name__}: {exc})")
    measure(
        benchmark, run, key=f"{key}@{n}", group=f"stream-{n}", kind="slow",
        setup=lambda: ((s.fresh_tokens(),), {}),
        n_units=s.n_deltas, unit="delta", n_reasoning=n, bytes=s.n_bytes,
    )


@pytest.mark.parametrize("n", SIZES[:2], ids=str)
def test_vllm_deepseek_r1(benchmark: Any, n: int) -> None:
    cls = _import("vllm.reasoning.deepseek_r1_reasoning_parser", "DeepSeekR1ReasoningParser")
    _run(benchmark, lambda: baselines.make_vllm_stream(cls), "vllm_deepseek_r1", n)


@pytest.mark.parametrize("n", SIZES, ids=str)
def test_sglang_deepseek_r1(benchmark: Any, n: int) -> None:
    cls = _import("sglang.srt.reasoning_parser", "ReasoningParser")
    _run(benchmark, lambda: baselines.make_sglang_stream(cls), "sglang_deepseek_r1", n)
