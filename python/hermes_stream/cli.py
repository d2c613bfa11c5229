"""Command line (``hermes-stream`` / ``python -m hermes_stream``): see DESCRIPTION below.

Every failure is one ``hermes-stream: error: ...`` line on stderr and a non-zero exit, never a
traceback: 1 bad input (missing file, invalid JSON, unknown model or token id, output the stdout
encoding cannot take), 2 usage (argparse), 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, TextIO

from . import __version__
from ._parser import StreamParser
from ._render import render
from ._sample import SAMPLE_CONVERSATION, SAMPLE_OUTPUT, SAMPLE_TOOLS, sample_pieces
from ._types import message_to_dict
from ._vocab import Vocab
from .models import MODELS

DESCRIPTION = """\
Stream NousResearch Hermes 4 output through hermes_stream's native parser: split
<think> reasoning from the answer, enforce a reasoning budget, stream tool calls;
and render Hermes 4 chat-template prompts.
"""

EPILOG = """\
--budget N (demo, parse) is a reasoning budget of N >= 0 tokens; leave it out for
no budget. Exit codes: 0 ok, 1 bad input, 2 usage error, 130 interrupted (Ctrl-C).
Run 'hermes-stream COMMAND --help' for the options of a command.
"""

#: Nesting deeper than this in input JSON is refused (Python's json would hit RecursionError).
MAX_JSON_DEPTH = 400


class InputError(Exception):
    """Bad input: reported on stderr with exit code 1."""


# ----------------------------------------------------------------------------- argument types


def _budget(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of tokens >= 0, got {value!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(
            f"must be >= 0, got {n} (leave --budget out for no budget)")
    return n


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _seconds(value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {value!r}") from None
    if not math.isfinite(x) or x < 0 or x > 60:
        raise argparse.ArgumentTypeError(f"must be between 0 and 60 seconds, got {value}")
    return x


# ----------------------------------------------------------------------------- output helpers


def _write_json(out: TextIO, obj: Any, indent: int | None = None) -> None:
    """JSON that the stream's encoding can always take: non-ASCII escaped where it cannot."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(obj, ensure_ascii=True, indent=indent)
    out.write(text + "\n")


def _encode_error(exc: UnicodeEncodeError) -> str:
    bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else ""
    char = f"U+{ord(bad[0]):04X}" if bad else "a character"
    if bad and 0xD800 <= ord(bad[0]) <= 0xDFFF:
        return (f"the output contains a lone surrogate ({char}, from the input), which "
                f"{exc.encoding} cannot encode")
    return (f"stdout's encoding {exc.encoding} cannot encode {char} in the output; "
            "set PYTHONIOENCODING=utf-8")


class _Progress:
    """``\\r``-updated progress on stderr, only when stderr is a terminal (never in pipes/logs)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        try:
            self.active = self.stream.isatty()
        except (AttributeError, ValueError):
            self.active = False
        self._last = 0.0
        self._shown = False

    def update(self, text: str, force: bool = False) -> None:
        if not self.active:
            return
        now = time.monotonic()
        if force or now - self._last >= 0.1:
            self._last = now
            self._shown = True
            self.stream.write(f"\r\x1b[K{text}")
            self.stream.flush()

    def done(self) -> None:
        if self.active and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


# ----------------------------------------------------------------------------- demo


def _prompt_preview(prompt: str) -> str:
    """The prompt from its last user turn on (the long system prompt is summarised, not cut)."""
    for header in ("<|im_start|>user", "<|start_header_id|>user"):
        at = prompt.rfind(header)
        if at >= 0:
            return f"[... {at} chars of system prompt and tool list ...]\n{prompt[at:]}"
    return prompt


def run_demo(out: TextIO, delay: float = 0.0, reasoning_budget: int | None = None) -> int:
    """Feed the sample one piece at a time, printing reasoning and answer as they arrive.

    With a budget that the sample's reasoning exceeds, the demo does what a server does: at the
    delta that carries ``forced``, it appends the forced close to the generation and the model
    goes on after it; here the rest of the sample's reasoning is dropped and its answer follows.
    """
    prompt = render(SAMPLE_CONVERSATION, model="hermes-4-14b", tools=SAMPLE_TOOLS, thinking=True,
                    add_generation_prompt=True)
    out.write(f"[prompt: {len(prompt)} chars, rendered natively for hermes-4-14b]\n")
    out.write(_prompt_preview(prompt) + "\n")
    parser = StreamParser(reasoning_budget=reasoning_budget, tools=SAMPLE_TOOLS)
    close = SAMPLE_OUTPUT.index("</think>") + len("</think>")
    reasoning_pieces = sample_pieces(SAMPLE_OUTPUT[:close])
    answer_pieces = sample_pieces(SAMPLE_OUTPUT[close:])
    region = ""
    n_deltas = 0

    def show(delta: Any) -> None:
        nonlocal region
        for kind, text in (("reasoning", delta.reasoning), ("answer", delta.content)):
            if not text:
                continue
            if kind != region:
                out.write(f"\n[{kind}] ")
                region = kind
            out.write(text)
        for call in delta.tool_calls:
            if call.name is not None:
                out.write(f"\n[tool_call {call.index}: {call.name} {call.id}] ")
                region = "tool_call"
            out.write(call.arguments)
        if delta.forced is not None:
            out.write(f"\n[budget hit after {parser.message.reasoning_tokens} reasoning tokens: "
                      f"the server appends {delta.forced.text!r} to the generation, so reasoning "
                      "ends here; the model's next tokens are the answer]")
            region = "forced"
        out.flush()
        if delay:
            time.sleep(delay)

    forced = False
    for piece in reasoning_pieces:
        delta = parser.feed(piece)
        n_deltas += 1
        show(delta)
        if delta.forced is not None:
            forced = True  # the generation continues after the appended close: the answer
            break
    for i, piece in enumerate(answer_pieces):
        if forced and i == 0:
            piece = piece.lstrip("\n") or piece  # the forced close already ended the line
        show(parser.feed(piece))
        n_deltas += 1
    show(parser.finish())
    message = parser.message
    out.write(
        f"\n\n{n_deltas} deltas; reasoning {len(message.reasoning)} chars, "
        f"answer {len(message.content)} chars, {message.reasoning_tokens} reasoning tokens"
        + (" (budget hit)" if message.budget_exceeded else "")
        + f", {len(message.tool_calls)} tool call(s): "
        + ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
        + "\n"
    )
    return 0


# ----------------------------------------------------------------------------- parse


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _depth(data: bytes | str) -> int:
    """Maximum bracket nesting of JSON text (strings skipped), without recursion."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    depth = deepest = 0
    in_str = esc = False
    for ch in data:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _load_json(data: bytes, what: str) -> Any:
    try:
        if data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and _depth(data) > MAX_JSON_DEPTH:
            raise InputError(f"{what}: JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return json.loads(data)
    except RecursionError:
        raise InputError(f"{what}: JSON nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and undecodable bytes
        raise InputError(f"{what} is not valid JSON: {exc}") from None


def _token_ids(value: Any) -> list[int]:
    what = "--tokenizer input must be a JSON list of token ids (integers >= 0)"
    if not isinstance(value, list):
        raise InputError(f"{what}, got a JSON {type(value).__name__}")
    for i, tid in enumerate(value):
        if type(tid) is not int or tid < 0:
            raise InputError(f"{what}; item {i} is {json.dumps(tid)[:40]}")
    return value


def _delta_json(delta: Any) -> dict[str, Any]:
    out: dict[str, Any] = delta.to_openai()
    if delta.forced is not None:
        out["forced"] = {"text": delta.forced.text, "token_ids": delta.forced.token_ids}
    return out


def _message_json(message: Any, token_unit: str) -> dict[str, Any]:
    return {**message_to_dict(message), "token_unit": token_unit}


def _note(text: str) -> None:
    print(f"hermes-stream: note: {text}", file=sys.stderr)


def run_parse(args: argparse.Namespace, out: TextIO) -> int:
    data = _read(args.file)
    vocab = None
    if args.tokenizer:
        try:
            vocab = Vocab.from_file(args.tokenizer)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise InputError(f"cannot load tokenizer {args.tokenizer}: {exc}") from None
    try:
        parser = StreamParser(reasoning_budget=args.budget, vocab=vocab)
    except (ValueError, TypeError) as exc:  # e.g. the close text has no encoding in this vocab
        raise InputError(str(exc)) from None
    progress = _Progress()
    deltas: list[Any] = []
    kind = args.input
    if vocab is not None and kind == "auto":
        kind = "ids" if data.lstrip()[:1] == b"[" else "text"
    if vocab is not None:
        if kind == "ids":
            ids = _token_ids(_load_json(data, "--tokenizer input (a JSON list of token ids)"))
            token_unit = "token (ids from the input)"
        else:
            try:
                ids = vocab.encode(data.decode("utf-8", "replace"))
            except ValueError as exc:
                raise InputError(
                    f"cannot tokenize the input with {args.tokenizer}: {exc}") from None
            token_unit = f"token (the text tokenized with {os.path.basename(args.tokenizer)})"
        step = 1 if args.stream else 4096
        try:
            for i in range(0, len(ids), step):
                if parser.finished:  # an end-of-turn id ended the message
                    break
                deltas.append(parser.feed_tokens(ids[i : i + step]))
                progress.update(f"parse: {min(i + step, len(ids)):,} / {len(ids):,} tokens")
        except (ValueError, TypeError, OverflowError) as exc:
            raise InputError(str(exc)) from None
    else:
        if kind == "ids":
            raise InputError("--input ids needs --tokenizer")
        text = data.decode("utf-8", "surrogateescape")
        chunks = [text[i : i + args.chunk] for i in range(0, len(text), args.chunk)] or [""]
        total = len(data)
        done = 0
        for c in chunks:
            b = c.encode("utf-8", "surrogateescape")
            deltas.append(parser.feed_bytes(b))
            done += len(b)
            progress.update(f"parse: {done / 2**20:,.1f} / {total / 2**20:,.1f} MiB")
        token_unit = f"delta (one per --chunk of {args.chunk} chars; no --tokenizer)"
    deltas.append(parser.finish())
    progress.done()
    message = parser.message
    if vocab is None and args.budget is not None:
        _note(f"without --tokenizer, reasoning_tokens and --budget count deltas ({len(chunks)} "
              f"here, one per --chunk of {args.chunk} chars), not tokens; pass --tokenizer "
              "tokenizer.json to count real tokens")
    if args.stream:
        for d in deltas:
            if d:
                _write_json(out, _delta_json(d))
    _write_json(out, _message_json(message, token_unit), indent=None if args.stream else 2)
    return 0


# ----------------------------------------------------------------------------- render


def run_render(args: argparse.Namespace, out: TextIO) -> int:
    data = _load_json(_read(args.file), "the messages input")
    tools = None
    if isinstance(data, dict):
        tools = data.get("tools")
        data = data.get("messages")
    if not isinstance(data, list):
        raise InputError('expected a JSON list of messages, or {"messages": [...], "tools": [...]}')
    try:
        prompt = render(data, model=args.model, tools=tools, thinking=args.thinking,
                        keep_cots=args.keep_cots, add_generation_prompt=args.add_generation_prompt,
                        bos_token=args.bos_token)
    except (ValueError, TypeError) as exc:  # TemplateError is a ValueError
        raise InputError(str(exc)) from None
    except RecursionError:
        raise InputError("messages or tools nested too deeply to render") from None
    encoding = getattr(out, "encoding", None) or "utf-8"
    try:
        prompt.encode(encoding)
    except UnicodeEncodeError as exc:  # before writing anything: no partial prompt
        raise InputError(_encode_error(exc)) from None
    out.write(prompt)
    return 0


# ----------------------------------------------------------------------------- bench


def run_bench(out: TextIO, n_tokens: int) -> int:
    """Native vs the reference and ``re`` re-run, on a generated stream, one delta per token."""
    import re

    from . import reference

    pieces = ["<think>"] + [f" w{i % 97}" for i in range(n_tokens)] + ["</think>", " answer"]
    think = re.compile(r"<think>(.*?)(?:</think>|\Z)(.*)", re.S)
    progress = _Progress()

    def timed(name: str, fn: Callable[[], None]) -> float:
        best = float("inf")
        for i in range(3):
            progress.update(f"bench: {name}, run {i + 1} of 3", force=True)
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        return best / len(pieces) * 1e6

    def run_parser(cls: Any) -> None:
        p = cls(reasoning_budget=None)
        feed = p.feed
        for x in pieces:
            feed(x)
        p.finish()

    def rerun() -> None:
        acc = ""
        for i, x in enumerate(pieces):
            acc += x
            if i % 50 == 0:
                think.search(acc)

    native = timed("native StreamParser", lambda: run_parser(StreamParser))
    ref = timed("reference StreamParser", lambda: run_parser(reference.StreamParser))
    rr = timed("re re-run", rerun) * 50  # one re-run every 50 deltas: cost per re-run
    progress.done()
    out.write(f"{len(pieces)} deltas, one per token (best of 3), microseconds per delta:\n")
    out.write(f"  native StreamParser.feed  {native:9.3f}\n")
    out.write(f"  reference (pure Python)   {ref:9.3f}   {ref / native:8.1f}x native\n")
    out.write(f"  re re-run on accumulated  {rr:9.3f}   {rr / native:8.1f}x native\n")
    out.write("Full suite: python -m pytest bench/ --benchmark-only (see bench/README.md)\n")
    return 0


# ----------------------------------------------------------------------------- main


class _ArgumentParser(argparse.ArgumentParser):
    """Usage errors as one ``hermes-stream: error: ...`` line (exit 2), naming the command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"hermes-stream: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    ap = _ArgumentParser(prog="hermes-stream", description=DESCRIPTION, epilog=EPILOG,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    budget_help = "reasoning budget: N >= 0 tokens (default: no budget)"

    demo = sub.add_parser("demo", help="render a built-in prompt, then stream a built-in "
                          "Hermes 4 output through the parser, live",
                          description="Render a prompt for a built-in conversation, then stream "
                          "a built-in Hermes 4 output through the parser, one token-sized "
                          "piece per delta.")
    demo.add_argument("--delay", type=_seconds, default=0.0, metavar="SECONDS",
                      help="seconds to sleep after each delta, 0 to 60 (default: 0)")
    demo.add_argument("--budget", type=_budget, default=None, metavar="N",
                      help=budget_help + "; each piece of the sample counts as one token")

    parse = sub.add_parser(
        "parse", help="model output (file or -) -> the message as JSON, or --stream "
        "JSON lines of deltas; text, or token ids with --tokenizer",
        description="Parse Hermes 4 output into the message as JSON (or --stream JSON lines of "
        "deltas, then the message). Without --tokenizer the input is text, fed in --chunk "
        "pieces, and reasoning_tokens / --budget count those pieces (one per delta), not tokens. "
        "With --tokenizer, tokens are counted exactly: the input is a JSON list of token ids, or "
        "text that is tokenized with it (--input chooses; auto: ids when it starts with '[').")
    parse.add_argument("file", help="path, or - for stdin")
    parse.add_argument("--stream", action="store_true",
                       help="JSON lines: one per delta (one per token with --tokenizer), then the "
                       "message")
    parse.add_argument("--chunk", type=_positive_int, default=1 << 20, metavar="CHARS",
                       help="characters per delta for text without --tokenizer (default: 1048576)")
    parse.add_argument("--tokenizer", metavar="TOKENIZER_JSON",
                       help="a tokenizer.json: count real tokens (needs the 'tokenizers' package "
                       "to tokenize text like the model; otherwise a greedy longest match)")
    parse.add_argument("--input", choices=("auto", "text", "ids"), default="auto",
                       help="with --tokenizer: the input is text or a JSON list of token ids "
                       "(default: auto)")
    parse.add_argument("--budget", type=_budget, default=None, metavar="N", help=budget_help)

    models = ", ".join(MODELS)
    rend = sub.add_parser(
        "render", help="messages JSON (file or -) -> the prompt of a Hermes 4 chat template",
        description="Render an OpenAI-style conversation with the official Hermes 4 chat "
        "template, byte-identical to transformers' apply_chat_template(..., tokenize=False). "
        'The input is a JSON list of messages, or {"messages": [...], "tools": [...]}. '
        f"Models: {models} (NousResearch/Hermes-4-14B spellings work too).")
    rend.add_argument("file", help="path, or - for stdin")
    rend.add_argument("--model", default="hermes-4-14b", metavar="NAME",
                      help=f"one of {models} (default: hermes-4-14b)")
    rend.add_argument("--thinking", action="store_true",
                      help="the template's thinking flag: the deep-thinking system prompt, and "
                      "earlier turns' reasoning stripped")
    rend.add_argument("--keep-cots", action="store_true",
                      help="with --thinking, keep earlier assistant turns' reasoning")
    rend.add_argument("--add-generation-prompt", action="store_true",
                      help="end with the assistant header (the prompt for a new reply)")
    rend.add_argument("--bos-token", default=None, metavar="TEXT",
                      help="first token of the Llama-3 format (default <|begin_of_text|>; "
                      "required for hermes-4.3-36b; ignored by hermes-4-14b)")

    bench = sub.add_parser("bench", help="a quick ratio table against the Python baselines",
                           description="Time the native parser against the pure-Python "
                           "reference and a re-run of re, one delta per token.")
    bench.add_argument("--tokens", type=_positive_int, default=20_000, metavar="N",
                       help="reasoning tokens in the generated stream (default: 20000)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.command is None:
        ap.print_usage(sys.stderr)
        ap.exit(2, "hermes-stream: error: a command is required: demo, parse, render or bench "
                "(see 'hermes-stream --help')\n")
    try:
        if args.command == "parse":
            return run_parse(args, sys.stdout)
        if args.command == "render":
            return run_render(args, sys.stdout)
        if args.command == "bench":
            return run_bench(sys.stdout, args.tokens)
        out = sys.stdout
        if hasattr(out, "reconfigure"):  # a display: show what the terminal cannot encode
            out.reconfigure(errors="backslashreplace")
        return run_demo(out, args.delay, args.budget)
    except InputError as exc:
        print(f"hermes-stream: error: {exc}", file=sys.stderr)
        return 1
    except UnicodeEncodeError as exc:
        print(f"hermes-stream: error: {_encode_error(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _quiet_stdout()
        print("\nhermes-stream: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `hermes-stream demo | head`: the reader left, not an error
        _quiet_stdout()
        return 0


def _quiet_stdout() -> None:
    """Keep interpreter shutdown from flushing into a closed or interrupted stdout."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    sys.stdout = open(os.devnull, "w")
