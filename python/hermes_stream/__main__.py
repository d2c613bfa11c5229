"""Command line: ``python -m hermes_stream demo`` streams a built-in sample through the parser."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence, TextIO

from ._parser import StreamParser
from ._sample import SAMPLE_OUTPUT, sample_pieces


def run_demo(out: TextIO, delay: float = 0.0, reasoning_budget: int | None = None) -> int:
    """Feed the sample one piece at a time, printing reasoning and answer as they arrive."""
    parser = StreamParser(reasoning_budget=reasoning_budget)
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


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="hermes-stream", description=__doc__)
    sub = ap.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="stream the built-in sample output through the parser")
    demo.add_argument("--delay", type=float, default=0.0, help="seconds to sleep per delta")
    demo.add_argument("--budget", type=int, default=None, help="reasoning token budget")
    args = ap.parse_args(argv)
    if args.command in (None, "demo"):
        return run_demo(
            sys.stdout, getattr(args, "delay", 0.0), getattr(args, "budget", None)
        )
    ap.error(f"unknown command {args.command!r}")  # pragma: no cover - argparse exits first
    return 2


if __name__ == "__main__":
    sys.exit(main())
