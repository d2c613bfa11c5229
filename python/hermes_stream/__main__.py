"""``python -m hermes_stream`` (the ``hermes-stream`` command): see ``cli.py``."""

from __future__ import annotations

import sys

from .cli import main, run_demo

__all__ = ["main", "run_demo"]

if __name__ == "__main__":
    sys.exit(main())
