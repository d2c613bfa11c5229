#!/usr/bin/env bash
# Optional peer environment for bench/test_peers.py, tests/python/test_vllm.py and
# tests/python/test_sglang.py: the real vLLM and SGLang from PyPI, CPU-only, parsers only.
#
#   bash bench/peers/install.sh            # into the current Python (PYTHON=... to choose)
#
# vLLM and SGLang are installed with --no-deps (their full requirements are the CUDA stack),
# plus only the light packages their parser modules import (found by trial: import the parser
# modules, install what is missing, repeat). torch must stay the CPU build 2.13.0: every install
# below is dry-run first and refused if it would replace torch. Idempotent. Works in a fresh
# virtualenv without system site packages (.ci/peers proves it on every CI run).
#
# One consistent set (step 5 checks it with pip check): every installed package meets every pin
# of vLLM 0.33 and SGLang 0.5.23, except three pins no environment can meet, each a choice:
#   torch      both engines pin CUDA builds 2.14.x; here the CPU build 2.13.0
#   xgrammar   vLLM pins ==0.2.8, SGLang ==0.2.7: vLLM's (both parsers import and work with it)
#   openai     vLLM needs >=2.25, SGLang pins ==2.8.0: vLLM's
# transformers: vLLM needs >=5.16.1,<5.21, SGLang ==5.19.0, so 5.19.0 (and tokenizers 0.23.2).
# hermes_stream's [test] extra needs transformers>=5.23 (test_render compares its input
# conversion with transformers' own), so install hermes_stream here WITHOUT [test]; .ci/peers
# adds only the test runners the peer tests need.
set -euo pipefail

PY=${PYTHON:-python}
VLLM_VERSION=${VLLM_VERSION:-0.33.0}
SGLANG_VERSION=${SGLANG_VERSION:-0.5.23}
TORCH_VERSION=2.13.0
TRANSFORMERS_VERSION=5.19.0   # the one version both engines accept
TOKENIZERS_VERSION=0.23.2

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
    # pip lists every requirement of the --no-deps engines it sees unmet (their CUDA stack) after
    # each install; step 5 checks consistency properly, so keep the log readable here.
    pip_ install "$@" 2>&1 |
        { grep -vE "^(ERROR: pip's dependency resolver does not currently|$UNMET)" || true; }
}
UNMET='(vllm|sglang|xgrammar|mistral[-_]common) [^ ]+ requires .*(which is not installed|which is incompatible)\.$'


# 1. torch, CPU build (a local wheel here; PyPI's +cpu index elsewhere). Kept if already there.
if ! "$PY" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
    pip_ install "torch==$TORCH_VERSION"
fi
# transformers: the tokenizer the drivers and tests use, at the version both engines accept.
guarded_install "transformers==$TRANSFORMERS_VERSION" "tokenizers==$TOKENIZERS_VERSION"

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
# ... and what a fresh venv lacks (found by trial in one; a global site often has them);
#     numpy<2.4 is mistral_common's pin on Python <= 3.12, openai>=2.25 vLLM's:
guarded_install urllib3 requests cloudpickle "jsonschema>=4.23" ipython "orjson>=3.11.6" \
    "openai>=2.25" "numpy<2.4"
# py-cpuinfo (vLLM); pytest-benchmark may already bring the module as py-cpuinfo2
"$PY" -c "import cpuinfo" 2>/dev/null || guarded_install py-cpuinfo

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

# 5. Consistency: pip check, less what --no-deps leaves out on purpose (the engines' CUDA / server
#    stack, never imported by their parsers) and the three accepted pins above. Anything else fails.
{ "$PY" -m pip check 2>&1 || true; } | "$PY" -c '
import re, sys
NO_DEPS = {"vllm", "sglang", "xgrammar", "mistral-common"}
ACCEPTED = {("vllm", "torch"), ("sglang", "torch"), ("sglang", "xgrammar"), ("sglang", "openai")}
def norm(name): return re.sub(r"[-_.]+", "-", name).lower()
bad = []
for line in sys.stdin:
    m = re.match(r"(\S+) \S+ (?:requires|has requirement) ([A-Za-z0-9_.-]+)", line)
    if not m:
        if line.strip() and not line.startswith("No broken"):
            bad.append(line.strip())
        continue
    top, dep = norm(m.group(1)), norm(m.group(2))
    if top in NO_DEPS and "which is not installed" in line:
        continue
    if (top, dep) in ACCEPTED:
        print("  accepted:", line.strip())
        continue
    bad.append(line.strip())
for line in bad:
    print("  CONFLICT:", line, file=sys.stderr)
sys.exit(1 if bad else 0)
'
echo "peers consistent: transformers $TRANSFORMERS_VERSION, tokenizers $TOKENIZERS_VERSION"
