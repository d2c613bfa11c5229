"""Test-only vLLM logits processor: the model says what the request scripts.

Loaded with ``--logits-processors scripted_lp:ScriptedLogitsProcessor`` (``tests/serve`` on
``PYTHONPATH``). A request with ``vllm_xargs={"script": [id, id, ...]}`` gets, at output
position k, every logit ``-inf`` except ``script[k]`` (0.0); past the end of the script, the
model's end-of-turn id (``vllm_xargs["script_eos"]``) is forced. Placed *before* the budget
processor on the command line, so a forced close replaces the scripted id at that position
(the script is positional: what the model "would have said" there is dropped). Requests without
a script are left alone.
"""

from __future__ import annotations

from typing import Any

import torch
from vllm.v1.sample.logits_processor import BatchUpdate, LogitsProcessor
from vllm.v1.sample.logits_processor.builtin import process_dict_updates


def _ids(value: Any, key: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(t, int) and t >= 0 for t in value):
        raise ValueError(f"vllm_xargs[{key!r}] must be a list of token ids")
    return value


class ScriptedLogitsProcessor(LogitsProcessor):
    @classmethod
    def validate_params(cls, sampling_params: Any) -> None:
        extra = sampling_params.extra_args or {}
        if "script" in extra:
            _ids(extra["script"], "script")
            if not isinstance(extra.get("script_eos"), int):
                raise ValueError("vllm_xargs['script_eos'] (an int) must come with a script")

    def __init__(self, vllm_config: Any, device: torch.device, is_pin_memory: bool) -> None:
        self.rows: dict[int, tuple[list[int], int, list[int]]] = {}

    def is_argmax_invariant(self) -> bool:
        return False

    @staticmethod
    def _new(params: Any, prompt: list[int] | None, output: list[int]) -> Any:
        extra = params.extra_args or {}
        if "script" not in extra:
            return None
        return (extra["script"], extra["script_eos"], output)

    def update_state(self, batch_update: BatchUpdate | None) -> None:
        process_dict_updates(self.rows, batch_update, self._new)

    def apply(self, logits: torch.Tensor) -> torch.Tensor:
        for i, (script, eos, output) in self.rows.items():
            k = len(output)
            tid = script[k] if k < len(script) else eos
            logits[i].fill_(float("-inf"))
            logits[i, tid] = 0.0
        return logits
