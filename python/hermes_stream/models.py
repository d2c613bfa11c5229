"""Model-card facts for the Hermes 4 family, as data (one table, no behaviour).

Sources: the NousResearch model cards (recommended sampling), the official chat templates in
``../shared/reference/`` and their tokenizers (see that folder's SOURCES.md). Ids that are not
public (the 70B/405B/4.3-36B tokenizer files were not available) are left ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.6
    top_p: float = 0.95
    top_k: int = 20


@dataclass(frozen=True)
class ModelInfo:
    name: str
    hf_repo: str
    base: str  # the base model family
    format: str  # "chatml" or "llama3" (the header format of the official template)
    template: str  # file name of the official template in ../shared/reference/
    vocabulary: str
    end_of_turn: str  # the token that ends an assistant turn
    end_of_turn_id: int | None
    bos_token: str | None  # what the template's bos_token should be (None: the template uses none)
    think_open_id: int | None
    think_close_id: int | None
    tool_call_open_id: int | None
    tool_call_close_id: int | None
    reasoning_budget: int = 30_000  # the trace length Hermes 4 was trained to stay under
    sampling: Sampling = Sampling()


_LLAMA = dict(format="llama3", template="hermes-4-70b.jinja", vocabulary="llama-3",
              end_of_turn="<|eot_id|>", end_of_turn_id=128009, bos_token="<|begin_of_text|>",
              think_open_id=None, think_close_id=None, tool_call_open_id=None,
              tool_call_close_id=None)

MODELS: Mapping[str, ModelInfo] = MappingProxyType({
    "hermes-4-14b": ModelInfo(
        name="hermes-4-14b", hf_repo="NousResearch/Hermes-4-14B", base="Qwen3-14B",
        format="chatml", template="hermes-4-14b.jinja", vocabulary="qwen3",
        end_of_turn="<|im_end|>", end_of_turn_id=151645, bos_token=None,
        think_open_id=151667, think_close_id=151668, tool_call_open_id=151657,
        tool_call_close_id=151658),
    # Llama-3 vocabulary: <think> and <tool_call> are several tokens each (SOURCES.md §6).
    "hermes-4-70b": ModelInfo(name="hermes-4-70b", hf_repo="NousResearch/Hermes-4-70B",
                              base="Llama-3.1-70B", **_LLAMA),  # type: ignore[arg-type]
    "hermes-4-405b": ModelInfo(name="hermes-4-405b", hf_repo="NousResearch/Hermes-4-405B",
                               base="Llama-3.1-405B", **_LLAMA),  # type: ignore[arg-type]
    "hermes-4.3-36b": ModelInfo(
        name="hermes-4.3-36b", hf_repo="NousResearch/Hermes-4.3-36B", base="Seed-OSS-36B",
        format="llama3", template="hermes-4.3-36b.jinja", vocabulary="seed-oss",
        end_of_turn="<|eot_id|>", end_of_turn_id=None, bos_token=None,  # not public: pass it
        think_open_id=None, think_close_id=None, tool_call_open_id=None,
        tool_call_close_id=None),
})


def model_info(name: str) -> ModelInfo:
    """The facts for ``name`` (e.g. ``"hermes-4-14b"``); ``ValueError`` lists the known names."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}") from None
