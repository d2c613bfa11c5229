"""The model-card table agrees with the reference templates and tokenizers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hermes_stream.models import MODELS, model_info

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"


def test_table_shape() -> None:
    assert set(MODELS) == {"hermes-4-14b", "hermes-4-70b", "hermes-4-405b", "hermes-4.3-36b"}
    for info in MODELS.values():
        assert info.format in ("chatml", "llama3")
        assert (info.sampling.temperature, info.sampling.top_p, info.sampling.top_k) == (0.6, 0.95, 20)
        assert info.reasoning_budget == 30_000
    assert model_info("hermes-4-14b").end_of_turn == "<|im_end|>"
    with pytest.raises(ValueError, match="known: hermes-4-14b"):
        model_info("hermes-5")


def test_facts_match_reference_files() -> None:
    if not REFERENCE.is_dir():
        pytest.skip(f"{REFERENCE} is absent: the reference templates and tokenizers are needed")
    from hermes_stream import Vocab

    for info in MODELS.values():
        template = (REFERENCE / info.template).read_text(encoding="utf-8")
        assert info.end_of_turn in template
        assert ("<|im_start|>" in template) == (info.format == "chatml")
    llama = {hashlib.sha256((REFERENCE / MODELS[m].template).read_bytes()).hexdigest()
             for m in ("hermes-4-70b", "hermes-4-405b", "hermes-4.3-36b")}
    assert len(llama) == 1  # the three official Llama-format templates are byte-identical
    qwen = Vocab.from_file(REFERENCE / "tokenizers" / "qwen3" / "tokenizer.json")
    info = MODELS["hermes-4-14b"]
    assert qwen.encode("<|im_end|>") == [info.end_of_turn_id]
    assert qwen.encode("<think></think><tool_call></tool_call>") == [
        info.think_open_id, info.think_close_id, info.tool_call_open_id, info.tool_call_close_id]
    llama_vocab = Vocab.from_tiktoken(REFERENCE / "tokenizers" / "llama-3" / "tokenizer.model")
    assert llama_vocab.encode("<|eot_id|>") == [MODELS["hermes-4-70b"].end_of_turn_id]
    assert llama_vocab.encode("<|begin_of_text|>") == [128000]
