"""Build the tiny randomly initialised models that tests/serve serves (no download).

    python tests/serve/build_models.py OUT_DIR      # writes OUT_DIR/qwen3 and OUT_DIR/llama3

* ``qwen3``: a 2-layer ``Qwen3ForCausalLM`` (hidden 64, head_dim 64: vLLM's CPU attention needs
  head_dim >= 32) with the real Qwen3 tokenizer (``../shared/reference/tokenizers/qwen3``) and the
  official Hermes-4-14B chat template.
* ``llama3``: a 2-layer ``LlamaForCausalLM`` with the stock Llama-3 tokenizer, converted from
  Meta's tiktoken ranks file (``tokenizers/llama-3/tokenizer.model``) by transformers'
  ``TikTokenConverter`` with Meta's 256 special tokens (so ``<think>`` is several tokens), and the
  official Hermes-4-70B template.

The weights are random: what the model says is decided by the test-only scripted logits
processor (``scripted_lp.py``), so only the shapes matter. Rebuilding is deterministic (seed 0).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference"
QWEN3_TOKENIZER = REFERENCE / "tokenizers" / "qwen3"
LLAMA3_TIKTOKEN = REFERENCE / "tokenizers" / "llama-3" / "tokenizer.model"

_SMALL = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2,
              num_key_value_heads=1, head_dim=64, max_position_embeddings=4096,
              tie_word_embeddings=True)


def _save_model(config: object, cls: type, out: Path) -> None:
    import torch

    torch.manual_seed(0)
    model = cls(config)
    model.to(torch.float32).save_pretrained(out)


def build_qwen3(out: Path) -> Path:
    from transformers import AutoTokenizer, Qwen3Config, Qwen3ForCausalLM

    out.mkdir(parents=True, exist_ok=True)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"):
        shutil.copyfile(QWEN3_TOKENIZER / name, out / name)
    tok = AutoTokenizer.from_pretrained(str(out))
    tok.chat_template = (REFERENCE / "hermes-4-14b.jinja").read_text(encoding="utf-8")
    tok.save_pretrained(str(out))
    config = Qwen3Config(vocab_size=151936, bos_token_id=None, eos_token_id=151645,
                         pad_token_id=151643, torch_dtype="float32", **_SMALL)
    _save_model(config, Qwen3ForCausalLM, out)
    return out


def build_llama3(out: Path) -> Path:
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    from hermes_stream._vocab import LLAMA3_SPECIAL_TOKENS

    out.mkdir(parents=True, exist_ok=True)
    specials = sorted(LLAMA3_SPECIAL_TOKENS, key=LLAMA3_SPECIAL_TOKENS.__getitem__)
    backend = TikTokenConverter(vocab_file=str(LLAMA3_TIKTOKEN),
                                extra_special_tokens=specials).converted()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<|begin_of_text|>",
                                  eos_token="<|eot_id|>", pad_token="<|finetune_right_pad_id|>",
                                  model_max_length=4096)
    assert tok.convert_tokens_to_ids("<|eot_id|>") == 128009
    assert tok.convert_tokens_to_ids("<|begin_of_text|>") == 128000
    tok.chat_template = (REFERENCE / "hermes-4-70b.jinja").read_text(encoding="utf-8")
    tok.save_pretrained(str(out))
    config = LlamaConfig(vocab_size=128256, bos_token_id=128000, eos_token_id=128009,
                         pad_token_id=128004, torch_dtype="float32", **_SMALL)
    _save_model(config, LlamaForCausalLM, out)
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[1])
    build_qwen3(root / "qwen3")
    build_llama3(root / "llama3")
    print(json.dumps({"qwen3": str(root / "qwen3"), "llama3": str(root / "llama3")}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
