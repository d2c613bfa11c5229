"""vLLM ``--tokenizer-mode hermes_stream``: the native Hermes 4 template and the prompt-token cache
inside ``vllm serve``.

vLLM picks its tokenizer class and its renderer by ``--tokenizer-mode`` (``TokenizerRegistry`` in
``vllm/tokenizers/registry.py``, ``RENDERER_REGISTRY`` in ``vllm/renderers/registry.py``). Its HF
renderer turns a chat request into ids with one ``tokenizer.apply_chat_template(conversation,
tools=..., chat_template=..., tokenize=True, return_dict=False, ...)`` call. The ``hermes_stream``
mode loads the same HF tokenizer as the default ``hf`` mode (vLLM's ``CachedHfTokenizer``) and
keeps vLLM's own ``HfRenderer``; only that one method of the tokenizer is routed through
``hs.apply_chat_template``, which renders natively when the template is byte-identical (sha256) to
an official Hermes 4 template and every argument is one it reproduces, and tokenizes through the
exact prompt-token cache. Everything else (another template, ``continue_final_message``,
documents, inputs the native renderer leaves to transformers, every input the template rejects)
goes to transformers' own method unchanged, so the prompt ids are always the default mode's.

Registration is by the ``vllm.general_plugins`` entry point (``register``), which vLLM calls in
each of its processes; it only adds the mode name, so servers that do not pass
``--tokenizer-mode hermes_stream`` are untouched::

    vllm serve NousResearch/Hermes-4-14B --tokenizer-mode hermes_stream ...
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, cast

__all__ = ["MODE", "HermesStreamTokenizer", "register", "wrap_tokenizer"]

MODE = "hermes_stream"

_inside = threading.local()  # set while hs.apply_chat_template runs: nested calls are transformers'


def _routed(base: type[Any]) -> type[Any]:
    """A subclass of ``base`` whose ``apply_chat_template`` goes through hs.apply_chat_template."""
    original = base.apply_chat_template

    @functools.wraps(original)  # keeps the signature vLLM and hermes_stream inspect
    def apply_chat_template(self: Any, conversation: Any, *args: Any, **kwargs: Any) -> Any:
        if args or getattr(_inside, "active", False):
            return original(self, conversation, *args, **kwargs)
        from hermes_stream import apply_chat_template as hs_apply

        _inside.active = True
        try:
            return hs_apply(self, conversation, **kwargs)
        finally:
            _inside.active = False

    namespace: dict[str, Any] = {"apply_chat_template": apply_chat_template,
                                 "_hermes_stream_routed": True}
    base_reduce = cast("Callable[[Any], Any]", base.__reduce__)  # unbound: takes the instance
    if base_reduce is not object.__reduce__:
        # vLLM's cached tokenizers pickle (and copy) as "rebuild from the original": rebuild,
        # then route again. (Default pickling keeps the class object itself: nothing to do.)
        def __reduce__(self: Any) -> Any:
            return _rebuild, (base_reduce(self),)

        namespace["__reduce__"] = __reduce__
    return type(f"HermesStream{base.__name__}", (base,), namespace)


def _rebuild(reduced: Any) -> Any:
    return wrap_tokenizer(reduced[0](*reduced[1]))


def wrap_tokenizer(tokenizer: Any) -> Any:
    """Route ``tokenizer.apply_chat_template`` through ``hs.apply_chat_template`` (in place)."""
    if not getattr(type(tokenizer), "_hermes_stream_routed", False):
        tokenizer.__class__ = _routed(type(tokenizer))
    return tokenizer


class HermesStreamTokenizer:
    """The tokenizer class of the ``hermes_stream`` mode: vLLM's ``CachedHfTokenizer``, routed."""

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> Any:
        from vllm.tokenizers.hf import CachedHfTokenizer

        tokenizer = wrap_tokenizer(CachedHfTokenizer.from_pretrained(*args, **kwargs))
        logging.getLogger("vllm").info(
            "hermes_stream tokenizer mode: %s.apply_chat_template goes through "
            "hs.apply_chat_template", type(tokenizer).__name__)
        return tokenizer


def register() -> None:
    """The ``vllm.general_plugins`` entry point: add the ``hermes_stream`` tokenizer mode."""
    from vllm.renderers.registry import RENDERER_REGISTRY
    from vllm.tokenizers.registry import TokenizerRegistry

    if MODE not in TokenizerRegistry.tokenizers:
        TokenizerRegistry.register(MODE, __name__, "HermesStreamTokenizer")
    if MODE not in RENDERER_REGISTRY.renderers:
        RENDERER_REGISTRY.register(MODE, "vllm.renderers.hf", "HfRenderer")
