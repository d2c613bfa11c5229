#!/usr/bin/env bash
# Optional peer environment for bench/test_peers.py, tests/python/test_vllm.py and
# tests/python/test_sglang.py: the real vLLM and SGLang from PyPI, CPU-only, parsers only.
#
#   bash bench/peers/install.sh            # into the current Python (PYTHON=... to choose)
#
# vLLM and SGLang are installed with --no-deps (their full requirements are the CUDA stack),
# plus only the light packages their parser modules import (found by trial: import the parser
# modules, install what is missing, repeat). torch must stay the CPU build 2.13.0: every install
# below is dry-run first and refused if it would replace torch. Idempotent.
set -euo pipefail

PY=${PYTHON:-python}
VLLM_VERSION=${VLLM_VERSION:-0.33.0}
SGLANG_VERSION=${SGLANG_VERSION:-0.5.23}
TORCH_VERSION=2.13.0

pip_() { "$PY" -m pip "$@"; }

# Install "$@" unless the dry run shows that pip would replace torch.
guarded_install() {
    local plan
    plan=$(pip_ install --dry-run "$@" 2>&1) || { echo "$plan" >&2; return 1; }
    if echo "$plan" | grep '^Would install' | tr ' ' '\n' | grep -qE '^torch-[0-9]'; then
        echo "refusing to install $*: pip would replace torch:" >&2
        echo "$plan" | grep '^Would install' >&2
        return 1
    fi
    pip_ install "$@"
}

# 1. torch, CPU build (a local wheel here; PyPI's +cpu index elsewhere). Kept if already there.
if ! "$PY" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    pip_ install "torch==$TORCH_VERSION"
fi
# transformers: the tokenizer the drivers and tests use (kept if already there).
"$PY" -c "import transformers" 2>/dev/null || guarded_install transformers

# 2. The engines and the two packages vLLM's parser code imports whose own requirements would
#    pull torch / triton / numpy pins: without their dependencies.
guarded_install --no-deps "vllm==$VLLM_VERSION" "sglang==$SGLANG_VERSION" \
    "xgrammar==0.2.8" "mistral_common>=1.11.6"

# 3. What vllm.reasoning / vllm.tool_parsers / vllm.parser and sglang.srt.parser /
#    sglang.srt.function_call import (pure Python or small wheels).
guarded_install \
    "oss-harmony>=0.0.11" cbor2 psutil pyzmq pybase64 aiohttp msgspec \
    "fastapi>=0.133,<0.137" partial-json-parser pillow cachetools prometheus_client uvloop \
    "apache-tvm-ffi==0.1.11" ijson pydantic-extra-types pycountry \
    dill orjson  # sglang.srt.sampling.custom_logit_processor (the SGLang budget processor)

# 4. Check: the parser modules import. SGLang's package __init__ needs triton (the GPU runtime),
#    which is not installed; hermes_stream loads sglang.srt's parser modules without it
#    (hermes_stream/integrations/_sglang_import.py).
"$PY" - <<'PYCHECK'
import warnings
warnings.simplefilter("ignore")
import torch
import vllm.reasoning.deepseek_r1_reasoning_parser, vllm.reasoning.qwen3_engine_reasoning_parser
import vllm.tool_parsers.hermes_tool_parser, vllm.parser.parser_manager
from hermes_stream.integrations._sglang_import import ensure_sglang_parsers_importable
ensure_sglang_parsers_importable()
import sglang.srt.parser.reasoning_parser, sglang.srt.function_call.function_call_parser
import sglang.srt.function_call.hermes_detector, sglang.srt.function_call.qwen25_detector
import vllm
from importlib.metadata import version
print(f"peers ready: vllm {vllm.__version__}, sglang {version('sglang')}, torch {torch.__version__}")
PYCHECK
