"""hermes_stream: streaming post-processor for NousResearch Hermes 4 output.

    >>> import hermes_stream as hs
    >>> p = hs.StreamParser()
    >>> d = p.feed("<think>hmm</think>Hi")
    >>> (d.reasoning, d.content)
    ('hmm', 'Hi')

The native extension is required; there is no silent fallback to the pure-Python reference
(which stays available as ``hermes_stream.reference`` for testing).
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only on a broken install
    raise ImportError(
        "hermes_stream's native extension (hermes_stream._core) failed to import; "
        "reinstall with `pip install .` from the source tree"
    ) from exc

from . import reference
from ._batch import BatchParser
from ._options import LoopGuard
from ._parser import StreamParser, parse
from ._render import TemplateError, apply_chat_template, render
from ._schema import ToolSet
from ._token_cache import PromptTokenCache, prompt_token_cache
from ._types import ForcedClose, LoopInfo, Message, Segment, ToolCall
from ._vocab import Vocab

ToolCallDelta = _core.ToolCallDelta
Delta = _core.Delta  # repr, ==, to_openai() and unhashability are the type's own (delta_type.cc)

__version__ = "0.1.0"

__all__ = [
    "BatchParser",
    "Delta",
    "ForcedClose",
    "LoopGuard",
    "LoopInfo",
    "Message",
    "PromptTokenCache",
    "Segment",
    "StreamParser",
    "TemplateError",
    "ToolCall",
    "ToolCallDelta",
    "ToolSet",
    "Vocab",
    "__version__",
    "apply_chat_template",
    "parse",
    "prompt_token_cache",
    "reference",
    "render",
]
