"""The `hermes-stream` command: parse (text, --stream, --tokenizer), render, demo, bench, errors.

The first tests call ``main()`` in process; the rest run the INSTALLED ``hermes-stream`` entry
point in a subprocess, as a user would: every bad input or usage is one ``hermes-stream: error:``
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _train_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator([TEXT, LONG_TRACE] * 3, trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_tokens(["<think>", "</think>", "<tool_call>", "</tool_call>"])
    tok.save(str(path))
    return path


LONG_TRACE = ("<think>" + " ".join(f"step{i} checks the case" for i in range(40)) + "</think>"
              "The answer is 42.")


@pytest.fixture(scope="module")
def tok_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("tokenizers", reason="needs the tokenizers package (the [test] extra)")
    return _train_tokenizer(tmp_path_factory.mktemp("tok") / "tokenizer.json")


def test_parse_token_ids_with_tokenizer(tmp_path: Path, tok_path: Path, capsys: Any) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(tok_path))
    ids = tok.encode(TEXT).ids + [tok.token_to_id("<|im_end|>")]
    f = tmp_path / "ids.json"
    f.write_text(json.dumps(ids))
    code, out, _ = _run(["parse", str(f), "--tokenizer", str(tok_path), "--budget", "1"], capsys)
    m = json.loads(out)
    assert code == 0 and m["budget_exceeded"] and m["reasoning_tokens"] == 1
    assert m["token_unit"].startswith("token")
    f.write_text(json.dumps(ids[:3] + [10**6]))
    code, _, err = _run(["parse", str(f), "--tokenizer", str(tok_path)], capsys)
    assert code == 1 and "unknown token id" in err
    f.write_text("[not json")
    code, _, err = _run(["parse", str(f), "--tokenizer", str(tok_path)], capsys)
    assert code == 1 and "JSON" in err


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


# ----------------------------------------------------------------------------- installed command


def _command() -> list[str]:
    """The installed console script next to this interpreter (pip puts it there), else on PATH."""
    here = Path(sys.executable).with_name("hermes-stream")
    found = str(here) if here.exists() else shutil.which("hermes-stream")
    assert found, "the hermes-stream entry point is not installed (pip install .)"
    return [found]


def cli(*args: str, stdin: str | bytes = b"", env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    data = stdin.encode("utf-8", "surrogatepass") if isinstance(stdin, str) else stdin
    done = subprocess.run([*_command(), *args], input=data, capture_output=True, check=False,
                          timeout=timeout, env={**os.environ, **(env or {})})
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"))


def assert_one_error_line(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, done
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hermes-stream: error: "), done.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_installed_entry_point_parses() -> None:
    done = cli("parse", "-", stdin=TEXT)
    assert done.returncode == 0 and done.stderr == ""
    assert json.loads(done.stdout)["content"] == "Hi "


def test_no_arguments_is_a_usage_error_not_the_demo() -> None:
    done = cli()
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("usage: hermes-stream")
    assert "hermes-stream: error: a command is required" in done.stderr
    assert "Traceback" not in done.stderr


def test_version() -> None:
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip() == f"hermes-stream {hs.__version__}"


def test_help_texts() -> None:
    top = cli("--help")
    assert top.returncode == 0
    assert "``" not in top.stdout and ":func:" not in top.stdout  # no raw reST markup
    for command in ("demo", "parse", "render", "bench"):
        assert command in top.stdout
    assert "130" in top.stdout  # exit codes are documented
    rend = cli("render", "--help")
    assert rend.returncode == 0
    for option in ("--model", "--thinking", "--keep-cots", "--add-generation-prompt",
                   "--bos-token"):
        line = next(ln for ln in rend.stdout.splitlines() if ln.strip().startswith(option))
        assert len(line.split()) > 1 or option == "--add-generation-prompt", line  # has help
    for model in hs.models.MODELS:
        assert model in rend.stdout
    parse = cli("parse", "--help")
    assert "not tokens" in " ".join(parse.stdout.split())  # says what is counted without one


@pytest.mark.parametrize("ids", ["[1, true]", "[1, -3]", '["7"]', "[1.5]", '{"ids": [1]}',
                                 "[1, null]", "7", "[1, 99999999999999999999999]"])
def test_bad_token_id_json(ids: str, tok_path: Path) -> None:
    done = cli("parse", "-", "--tokenizer", str(tok_path), "--input", "ids", stdin=ids)
    assert_one_error_line(done, 1)
    if ids.startswith("["):  # --input auto takes a JSON list as ids
        assert_one_error_line(cli("parse", "-", "--tokenizer", str(tok_path), stdin=ids), 1)


@pytest.mark.parametrize("args", [
    ("demo", "--delay", "-1"), ("demo", "--delay", "nan"), ("demo", "--delay", "inf"),
    ("demo", "--budget", "-5"), ("demo", "--budget", "x"), ("parse", "-", "--budget", "-1"),
    ("parse", "-", "--chunk", "0"), ("bench", "--tokens", "0"), ("render", "-", "--nope"),
    ("frobnicate",),
])
def test_bad_arguments_are_one_usage_error_line(args: tuple[str, ...]) -> None:
    done = cli(*args)
    assert_one_error_line(done, 2, "argument" if args[0] != "frobnicate" else "invalid choice")
    assert done.stdout == ""


def test_negative_budget_means_the_same_in_demo_and_parse() -> None:
    demo, parse = cli("demo", "--budget", "-5"), cli("parse", "-", "--budget", "-5")
    assert demo.stderr.split("error: ", 1)[1].split(" (see")[0] == \
        parse.stderr.split("error: ", 1)[1].split(" (see")[0]
    assert "leave --budget out for no budget" in demo.stderr


@pytest.mark.parametrize("command", ["render", "ids"])
def test_deeply_nested_json(command: str, tok_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    args = ("render", "-") if command == "render" else ("parse", "-", "--tokenizer", str(tok_path))
    assert_one_error_line(cli(*args, stdin=deep), 1, "nested")
    deep_obj = '{"a": ' * 50_000 + "1" + "}" * 50_000
    assert_one_error_line(cli("render", "-", stdin=f'{{"messages": [], "tools": [{deep_obj}]}}'),
                          1, "nested")


def test_nested_tools_within_the_limit_render(tmp_path: Path) -> None:
    params: Any = {"type": "string"}
    for _ in range(150):
        params = {"type": "object", "properties": {"x": params}}
    tools = [{"type": "function", "function": {"name": "f", "parameters": params}}]
    msgs = [{"role": "user", "content": "hi"}]
    done = cli("render", "-", stdin=json.dumps({"messages": msgs, "tools": tools}))
    assert done.returncode == 0, done.stderr
    assert done.stdout == hs.render(msgs, tools=tools)


def test_lone_surrogate_in_a_message() -> None:
    done = cli("render", "-", stdin='[{"role": "user", "content": "a\\ud800b"}]')
    assert_one_error_line(done, 1, "lone surrogate", "U+D800")
    assert done.stdout == ""  # nothing half-written


def test_ascii_stdout() -> None:
    env = {"PYTHONIOENCODING": "ascii"}
    rend = cli("render", "-", stdin='[{"role": "user", "content": "café"}]', env=env)
    assert_one_error_line(rend, 1, "ascii", "U+00E9", "PYTHONIOENCODING=utf-8")
    trace = "<think>café ☕</think>naïve"
    parse = cli("parse", "-", stdin=trace, env=env)  # JSON: escaped, same data
    assert parse.returncode == 0 and parse.stdout.isascii()
    assert json.loads(parse.stdout)["reasoning"] == "café ☕"
    assert json.loads(parse.stdout) == json.loads(cli("parse", "-", stdin=trace).stdout)
    demo = cli("demo", env=env)
    assert demo.returncode == 0 and "Traceback" not in demo.stderr and "[answer]" in demo.stdout


def test_ctrl_c_during_demo_exits_130_quietly() -> None:
    proc = subprocess.Popen([*_command(), "demo", "--delay", "0.05"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b"[prompt:")  # the demo is running
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.decode().strip() == "hermes-stream: interrupted"


def test_parse_text_with_tokenizer_counts_real_tokens(tmp_path: Path, tok_path: Path) -> None:
    f = tmp_path / "trace.txt"
    f.write_text(LONG_TRACE, encoding="utf-8")
    vocab = hs.Vocab.from_file(tok_path)
    ids = vocab.encode(LONG_TRACE)
    expect = hs.StreamParser(vocab=vocab, reasoning_budget=None)
    expect.feed_tokens(ids)
    expect.finish()
    assert expect.message.reasoning_tokens > 100  # a real count, not one per chunk
    done = cli("parse", str(f), "--tokenizer", str(tok_path))
    m = json.loads(done.stdout)
    assert done.returncode == 0 and done.stderr == ""
    assert m["reasoning_tokens"] == expect.message.reasoning_tokens
    assert (m["reasoning"], m["content"]) == (expect.message.reasoning, expect.message.content)
    assert m["token_unit"].startswith("token")
    # --budget 5 on a 200-word trace: the close is forced after 5 real tokens
    budget = cli("parse", str(f), "--tokenizer", str(tok_path), "--budget", "5", "--stream")
    lines = [json.loads(ln) for ln in budget.stdout.splitlines()]
    assert budget.returncode == 0
    assert lines[-1]["reasoning_tokens"] == 5 and lines[-1]["budget_exceeded"]
    forced = [ln["forced"] for ln in lines[:-1] if "forced" in ln]
    assert len(forced) == 1 and forced[0]["text"] == "\n</think>\n"
    assert forced[0]["token_ids"] == vocab.encode("\n</think>\n")
    # --input text forces text even when it starts with "["
    f.write_text("[1, 2] is a list")
    done = cli("parse", str(f), "--tokenizer", str(tok_path), "--input", "text")
    assert done.returncode == 0 and json.loads(done.stdout)["content"] == "[1, 2] is a list"


def test_parse_text_without_tokenizer_says_what_it_counts(tmp_path: Path) -> None:
    f = tmp_path / "trace.txt"
    f.write_text(LONG_TRACE, encoding="utf-8")
    done = cli("parse", str(f), "--budget", "5")
    m = json.loads(done.stdout)
    assert done.returncode == 0
    assert m["token_unit"].startswith("delta")  # in the output ...
    assert m["reasoning_tokens"] == 0 and not m["budget_exceeded"]  # one delta, starting outside
    note = done.stderr.strip()  # ... and said on stderr
    assert note.startswith("hermes-stream: note: without --tokenizer") and "not tokens" in note
    small = cli("parse", str(f), "--budget", "5", "--chunk", "4")
    assert json.loads(small.stdout)["budget_exceeded"]  # 4-char deltas: counted one each


def test_demo_budget_shows_the_forced_close() -> None:
    done = cli("demo", "--budget", "10")
    assert done.returncode == 0 and done.stderr == ""
    out = done.stdout
    assert "[budget hit after 10 reasoning tokens: the server appends '\\n</think>\\n'" in out
    answer = out.split("[answer]", 1)[1]
    assert "</think>" not in answer and "There are **3** r's" in answer
    assert out.index("[reasoning]") < out.index("[budget hit") < out.index("[answer]")
    assert "10 reasoning tokens (budget hit)" in out


def test_demo_prompt_preview_starts_at_a_turn() -> None:
    out = cli("demo").stdout.splitlines()
    assert out[0].startswith("[prompt: ")
    assert out[1].startswith("[... ") and "system prompt" in out[1]
    assert out[2] == "<|im_start|>user"
    # the README's first command, python -m hermes_stream demo, is the same program
    done = subprocess.run([sys.executable, "-m", "hermes_stream", "demo"], capture_output=True,
                          check=False, timeout=60)
    assert done.returncode == 0 and done.stdout.decode().splitlines()[:3] == out[:3]


def _run_with_terminal_stderr(*args: str) -> tuple[subprocess.CompletedProcess[bytes], bytes]:
    """Run the command with stderr on a pseudo-terminal; return it and what the terminal got."""
    master, slave = os.openpty()
    try:
        done = subprocess.run([*_command(), *args], stdout=subprocess.PIPE, stderr=slave,
                              check=False, timeout=120)
        os.close(slave)
        slave = -1
        shown = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    return done, shown


def test_progress_only_on_a_terminal(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("<think>" + "x" * (3 << 20))
    quiet = cli("parse", str(big), "--chunk", "65536")  # stderr is a pipe here: no progress
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert cli("bench", "--tokens", "200").stderr == ""
    if not hasattr(os, "openpty"):
        return
    done, shown = _run_with_terminal_stderr("bench", "--tokens", "200")
    assert done.returncode == 0 and b"native StreamParser.feed" in done.stdout
    assert b"bench: native StreamParser, run 1 of 3" in shown
    done, shown = _run_with_terminal_stderr("parse", str(big), "--chunk", "65536")
    assert done.returncode == 0 and json.loads(done.stdout)["reasoning"] == "x" * (3 << 20)
    assert b"parse: " in shown and b" / 3.0 MiB" in shown


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["role", "content", "messages", "tools", "tool_calls", "function",
                         "name", "arguments", "type"]), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(command=st.sampled_from(["parse", "render"]),
       flags=st.lists(st.sampled_from(["--stream", "--thinking", "--keep-cots", "--chunk=3",
                                       "--budget=0", "--budget=2", "--input=ids", "--input=text",
                                       "--add-generation-prompt", "--model=hermes-4-70b",
                                       "--model=hermes-4.3-36b", "--bos-token=<s>"]),
                      max_size=4, unique=True),
       data=st.one_of(st.binary(max_size=64), JSONISH.map(lambda v: json.dumps(v).encode()),
                      st.text(alphabet="<>/thinkol_cal{}[]\" \n", max_size=40).map(str.encode)))
def test_any_input_is_a_result_or_one_error_line(command: str, flags: list[str], data: bytes,
                                                 tok_path: Path) -> None:
    """In process, over generated inputs and flags: a result, or an error line; never a crash."""
    argv = [command, "-", *flags]
    if command == "parse" and "--input=ids" in flags:
        argv += ["--tokenizer", str(tok_path)]
    stdout, stderr = io.StringIO(), io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(data))
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse: a parse flag given to render, or the reverse
        code = exc.code  # type: ignore[assignment]
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    err = stderr.getvalue()
    assert code in (0, 1, 2), (code, err)
    if code == 0:
        assert stdout.getvalue()
    else:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("hermes-stream: error: "), err
