"""The README's Python examples run as written, and its first two commands name real entry points."""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import hermes_stream as hs
from hermes_stream.__main__ import main, run_demo

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_examples_run() -> None:
    blocks = _python_blocks()
    assert blocks, "README has no python example"
    for block in blocks:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})


def test_readme_opens_with_demo_and_test_commands() -> None:
    first = README.read_text(encoding="utf-8").split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [ln for ln in first.splitlines() if ln.strip()]
    assert "python -m hermes_stream demo" in lines[0]
    assert "python -m pytest" in lines[1]


def test_demo_prints_reasoning_then_answer() -> None:
    out = io.StringIO()
    assert run_demo(out) == 0
    text = out.getvalue()
    assert text.index("[reasoning]") < text.index("[answer]")
    assert "There are **3** r's" in text.split("[answer]", 1)[1]
    assert '[tool_call 0: get_weather call_' in text
    assert 'get_weather({"city": "Paris", "unit": "celsius"})' in text


def test_demo_with_budget_shows_forced_close(capsys: object) -> None:
    assert main(["demo", "--budget", "5"]) == 0
    text = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "[budget hit after 5 reasoning tokens" in text
    assert "5 reasoning tokens (budget hit)" in text
    assert "</think>" not in text.split("[answer]", 1)[1]  # the close is shown as the budget's


def test_readme_examples_pass_mypy_strict(tmp_path: Path) -> None:
    """The README's Python snippets type-check with ``mypy --strict`` against the installed API."""
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it is in the [test] extra)")
    files = []
    for i, block in enumerate(_python_blocks()):
        f = tmp_path / f"readme_{i}.py"
        f.write_text(block, encoding="utf-8")
        files.append(str(f))
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir",
         str(tmp_path / ".mypy_cache"), *files],
        capture_output=True, text=True, check=False, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_demo_sample_round_trips() -> None:
    from hermes_stream._sample import SAMPLE_OUTPUT, sample_pieces

    assert "".join(sample_pieces()) == SAMPLE_OUTPUT
    m = hs.parse(SAMPLE_OUTPUT)
    assert "".join(s.text for s in m.segments) == SAMPLE_OUTPUT
