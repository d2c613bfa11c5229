"""The `hermes-stream` command: parse (text, --stream, --tokenizer), bench, errors and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hermes_stream as hs
from hermes_stream.cli import main

TEXT = '<think>plan</think>Hi <tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'


def _run(argv: list[str], capsys: Any) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_file_prints_the_message(tmp_path: Path, capsys: Any) -> None:
    f = tmp_path / "out.txt"
    f.write_text(TEXT, encoding="utf-8")
    code, out, _ = _run(["parse", str(f)], capsys)
    assert code == 0
    m = json.loads(out)
    ref = hs.parse(TEXT, reasoning_budget=None)
    assert (m["reasoning"], m["content"]) == (ref.reasoning, ref.content)
    assert [(c["name"], c["arguments"]) for c in m["tool_calls"]] == [("f", '{"a": 1}')]


def test_parse_stream_from_stdin(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(TEXT.encode())))
    code, out, _ = _run(["parse", "-", "--stream", "--chunk", "4"], capsys)
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(lines) > 3
    deltas, message = lines[:-1], lines[-1]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == message["reasoning"] == "plan"
    assert "".join(d.get("content", "") for d in deltas) == message["content"] == "Hi "


def test_parse_token_ids_with_tokenizer(tmp_path: Path, capsys: Any) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([TEXT] * 3, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_tokens(["<think>", "</think>", "<tool_call>", "</tool_call>"])
    tok_path = tmp_path / "tokenizer.json"
    tok.save(str(tok_path))
    ids = tok.encode(TEXT).ids + [tok.token_to_id("<|im_end|>")]
    f = tmp_path / "ids.json"
    f.write_text(json.dumps(ids))
    code, out, _ = _run(["parse", str(f), "--tokenizer", str(tok_path), "--budget", "1"], capsys)
    m = json.loads(out)
    assert code == 0 and m["budget_exceeded"] and m["reasoning_tokens"] == 1
    f.write_text(json.dumps(ids[:3] + [10**6]))
    code, _, err = _run(["parse", str(f), "--tokenizer", str(tok_path)], capsys)
    assert code == 1 and "unknown token id" in err
    f.write_text("not json")
    code, _, err = _run(["parse", str(f), "--tokenizer", str(tok_path)], capsys)
    assert code == 1 and "JSON list of token ids" in err


def test_errors_and_exit_codes(tmp_path: Path, capsys: Any) -> None:
    code, _, err = _run(["parse", str(tmp_path / "missing.txt")], capsys)
    assert code == 1 and "cannot read" in err
    code, _, err = _run(["parse", str(tmp_path), "--tokenizer", str(tmp_path / "nope.json")], capsys)
    assert code == 1
    with pytest.raises(SystemExit) as exc:
        main(["parse"])  # missing file argument: argparse usage error
    assert exc.value.code == 2


def test_bench_prints_ratios(capsys: Any) -> None:
    code, out, _ = _run(["bench", "--tokens", "300"], capsys)
    assert code == 0
    assert "native StreamParser.feed" in out and "x native" in out


def test_console_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "hermes_stream", "parse", "-"], input=TEXT.encode(),
                          capture_output=True, check=False, timeout=60)
    assert done.returncode == 0
    assert json.loads(done.stdout)["content"] == "Hi "


def test_render_command(tmp_path: Path, capsys: Any) -> None:
    msgs = [{"role": "user", "content": "hi"}]
    f = tmp_path / "m.json"
    f.write_text(json.dumps({"messages": msgs, "tools": None}))
    code, out, _ = _run(["render", str(f), "--model", "hermes-4-70b", "--add-generation-prompt"],
                        capsys)
    assert code == 0
    assert out == hs.render(msgs, model="hermes-4-70b", add_generation_prompt=True)
    f.write_text("{not json")
    assert _run(["render", str(f)], capsys)[0] == 1
    f.write_text(json.dumps(msgs))
    code, _, err = _run(["render", str(f), "--model", "hermes-9"], capsys)
    assert code == 1 and "unknown model" in err
    f.write_text(json.dumps([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]))
    code, _, err = _run(["render", str(f), "--thinking"], capsys)
    assert code == 1 and "</think>" in err  # the template's own error, as TemplateError


def test_demo_renders_a_prompt_first(capsys: Any) -> None:
    code, out, _ = _run(["demo"], capsys)
    assert code == 0
    assert out.index("[prompt:") < out.index("[reasoning]") < out.index("[tool_call 0")
