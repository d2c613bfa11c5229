"""Command line (``hermes-stream`` / ``python -m hermes_stream``).

    demo     render a prompt for a built-in conversation, then stream a built-in Hermes 4
             output through the parser, live
    parse    a file or stdin -> the message as JSON, or --stream JSON lines of deltas
    render   messages JSON (a list, or {"messages": [...], "tools": [...]}) -> the prompt
    bench    a quick ratio table against the Python baselines

Exit codes: 0 ok, 1 bad input (missing file, invalid JSON, unknown model or token id), 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from typing import Any, Sequence, TextIO

from ._parser import StreamParser
from ._render import render
from ._sample import SAMPLE_CONVERSATION, SAMPLE_OUTPUT, SAMPLE_TOOLS, sample_pieces
from ._vocab import Vocab


def run_demo(out: TextIO, delay: float = 0.0, reasoning_budget: int | None = None) -> int:
    """Feed the sample one piece at a time, printing reasoning and answer as they arrive."""
    prompt = render(SAMPLE_CONVERSATION, model="hermes-4-14b", tools=SAMPLE_TOOLS, thinking=True,
                    add_generation_prompt=True)
    out.write(f"[prompt: {len(prompt)} chars, rendered natively for hermes-4-14b]\n")
    out.write(prompt[-160:].join(["...", ""]) + "\n")
    parser = StreamParser(reasoning_budget=reasoning_budget, tools=SAMPLE_TOOLS)
    region = ""
    pieces = sample_pieces(SAMPLE_OUTPUT)
    deltas = [parser.feed(piece) for piece in pieces]
    deltas.append(parser.finish())
    for delta in deltas:
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
            out.write(f"\n[budget hit: server appends {delta.forced.text!r}]")
        out.flush()
        if delay:
            time.sleep(delay)
    message = parser.message
    out.write(
        f"\n\n{len(pieces)} deltas; reasoning {len(message.reasoning)} chars, "
        f"answer {len(message.content)} chars, {message.reasoning_tokens} reasoning tokens, "
        f"{len(message.tool_calls)} tool call(s): "
        + ", ".join(f"{c.name}({c.arguments})" for c in message.tool_calls)
        + "\n"
    )
    return 0


class InputError(Exception):
    """Bad input: reported on stderr with exit code 1."""


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None


def _delta_json(delta: Any) -> dict[str, Any]:
    out = delta.to_openai()
    if delta.forced is not None:
        out["forced"] = {"text": delta.forced.text, "token_ids": delta.forced.token_ids}
    return out


def _message_json(message: Any) -> dict[str, Any]:
    return {
        "reasoning": message.reasoning,
        "content": message.content,
        "tool_calls": [
            {"index": c.index, "id": c.id, "name": c.name, "arguments": c.arguments,
             "error": c.error}
            for c in message.tool_calls
        ],
        "reasoning_tokens": message.reasoning_tokens,
        "budget_exceeded": message.budget_exceeded,
        "segments": [asdict(s) for s in message.segments],
    }


def run_parse(args: argparse.Namespace, out: TextIO) -> int:
    data = _read(args.file)
    budget = None if args.budget is None or args.budget < 0 else args.budget
    vocab = None
    if args.tokenizer:
        try:
            vocab = Vocab.from_file(args.tokenizer)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot load tokenizer {args.tokenizer}: {exc}") from None
    parser = StreamParser(reasoning_budget=budget, vocab=vocab)
    if vocab is not None:
        try:
            ids = json.loads(data)
        except ValueError as exc:
            raise InputError(f"--tokenizer input must be a JSON list of token ids: {exc}") from None
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise InputError("--tokenizer input must be a JSON list of token ids")
        try:
            pieces: list[Any] = [[i] for i in ids] if args.stream else [ids]
            feed = parser.feed_tokens
            deltas = [feed(p) for p in pieces if not parser.finished]
        except ValueError as exc:
            raise InputError(str(exc)) from None
    else:
        text = data.decode("utf-8", "surrogateescape")
        chunks = [text[i : i + args.chunk] for i in range(0, len(text), args.chunk)] or [""]
        deltas = [parser.feed_bytes(c.encode("utf-8", "surrogateescape")) for c in chunks]
    deltas.append(parser.finish())
    if args.stream:
        for d in deltas:
            if d:
                out.write(json.dumps(_delta_json(d), ensure_ascii=False) + "\n")
    out.write(json.dumps(_message_json(parser.message), ensure_ascii=False,
                         indent=None if args.stream else 2) + "\n")
    return 0


def run_render(args: argparse.Namespace, out: TextIO) -> int:
    try:
        data = json.loads(_read(args.file))
    except ValueError as exc:
        raise InputError(f"messages must be JSON: {exc}") from None
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
    out.write(prompt)
    return 0


def run_bench(out: TextIO, n_tokens: int) -> int:
    """Native vs the reference and ``re`` re-run, on a generated stream, one delta per token."""
    import re

    from . import reference

    pieces = ["<think>"] + [f" w{i % 97}" for i in range(n_tokens)] + ["</think>", " answer"]
    think = re.compile(r"<think>(.*?)(?:</think>|\Z)(.*)", re.S)

    def timed(fn: Any) -> float:
        best = float("inf")
        for _ in range(3):
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

    native = timed(lambda: run_parser(StreamParser))
    ref = timed(lambda: run_parser(reference.StreamParser))
    rr = timed(rerun) * 50  # one re-run every 50 deltas: cost per re-run
    out.write(f"{len(pieces)} deltas, one per token (best of 3), microseconds per delta:\n")
    out.write(f"  native StreamParser.feed  {native:9.3f}\n")
    out.write(f"  reference (pure Python)   {ref:9.3f}   {ref / native:8.1f}x native\n")
    out.write(f"  re re-run on accumulated  {rr:9.3f}   {rr / native:8.1f}x native\n")
    out.write("Full suite: python -m pytest bench/ --benchmark-only (see bench/README.md)\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hermes-stream", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="stream the built-in sample output through the parser")
    demo.add_argument("--delay", type=float, default=0.0, help="seconds to sleep per delta")
    demo.add_argument("--budget", type=int, default=None, help="reasoning token budget")
    parse = sub.add_parser("parse", help="parse model output from a file or stdin ('-')")
    parse.add_argument("file", help="path, or - for stdin")
    parse.add_argument("--stream", action="store_true", help="JSON lines: one per delta, then the message")
    parse.add_argument("--chunk", type=int, default=1 << 20, help="bytes per delta for text input")
    parse.add_argument("--tokenizer", help="tokenizer.json: the input is a JSON list of token ids")
    parse.add_argument("--budget", type=int, default=None, help="reasoning budget (default none)")
    rend = sub.add_parser("render", help="render messages JSON (file or -) to a prompt")
    rend.add_argument("file", help="path, or - for stdin")
    rend.add_argument("--model", default="hermes-4-14b")
    rend.add_argument("--thinking", action="store_true")
    rend.add_argument("--keep-cots", action="store_true")
    rend.add_argument("--add-generation-prompt", action="store_true")
    rend.add_argument("--bos-token", default=None)
    bench = sub.add_parser("bench", help="a quick ratio table against the Python baselines")
    bench.add_argument("--tokens", type=int, default=20_000)
    args = ap.parse_args(argv)
    try:
        if args.command == "parse":
            if args.chunk < 1:
                ap.error("--chunk must be >= 1")
            return run_parse(args, sys.stdout)
        if args.command == "render":
            return run_render(args, sys.stdout)
        if args.command == "bench":
            return run_bench(sys.stdout, args.tokens)
        return run_demo(sys.stdout, getattr(args, "delay", 0.0), getattr(args, "budget", None))
    except InputError as exc:
        print(f"hermes-stream: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `hermes-stream demo | head`: the reader left, not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps interpreter shutdown quiet
        return 0
