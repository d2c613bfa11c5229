"""Make SGLang's parser modules importable from a CPU-only, parsers-only SGLang install.

``sglang/__init__.py`` sets up SGLang's runtime and frontend language: it imports ``triton`` (and,
through it, the GPU stack) before anything else. The parser modules this package plugs into
(``sglang.srt.parser.reasoning_parser``, ``sglang.srt.function_call.*``) need none of that, and
``sglang.srt`` is a namespace package. So when ``triton`` is not installed (``pip install sglang
--no-deps`` on a machine without a GPU stack: see ``bench/peers/install.sh``), the ``sglang``
package is registered without running its ``__init__``; SGLang's own parser code then imports and
runs unchanged. With ``triton`` installed (any real SGLang server), nothing is changed and
``import sglang`` runs as usual.
"""

from __future__ import annotations

import importlib.util
import sys
import types

__all__ = ["ensure_sglang_parsers_importable"]


def ensure_sglang_parsers_importable() -> None:
    """Import ``sglang``, or register it without its ``__init__`` when ``triton`` is absent.

    Raises ``ImportError`` when SGLang is not installed at all."""
    if "sglang" in sys.modules:
        return
    spec = importlib.util.find_spec("sglang")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("sglang is not installed (pip install sglang)")
    if importlib.util.find_spec("triton") is not None:
        import sglang  # noqa: F401  (a full install: import it the normal way)

        return
    pkg = types.ModuleType("sglang")
    pkg.__path__ = list(spec.submodule_search_locations)
    pkg.__spec__ = spec
    pkg.__file__ = spec.origin
    pkg.__package__ = "sglang"
    pkg.__hermes_stream_shim__ = (  # type: ignore[attr-defined]
        "sglang/__init__.py skipped: triton is not installed (parsers-only install)"
    )
    sys.modules["sglang"] = pkg
