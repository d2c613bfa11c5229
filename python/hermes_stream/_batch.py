"""Many streams, one native call per engine step (``hs.BatchParser``)."""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from typing import Any, NoReturn, Union

from . import _core
from ._options import close_ids
from ._parser import StreamParser
from ._types import Message

DeltaInput = Union[str, bytes, "list[int]"]


class BatchParser:
    """Holds one ``StreamParser`` per live stream and feeds them all in one native call.

    ``feed_many([(stream_id, text_or_ids), ...])`` returns ``{stream_id: Delta}``; the parsing
    runs with the GIL released, so other Python threads keep running during an engine step.
    Results are identical to one ``StreamParser`` per stream fed the same deltas.

    Thread safety: a BatchParser (like a StreamParser) serves one call at a time. A concurrent
    call (another thread) or a re-entrant one (from an ``id_factory`` or an ``items`` generator)
    raises ``RuntimeError``; distinct parsers can be used from different threads concurrently.

    Partial failure: if a stream's feed raises inside ``feed_many`` (its ``id_factory`` raised),
    the other streams are still fed and the first exception is raised with ``deltas`` (a list of
    ``(stream_id, Delta)`` for every stream that consumed its delta) and ``errors`` (a list of
    ``(stream_id, exception)``); a failed stream's parser is broken, as a ``StreamParser`` whose
    ``id_factory`` raised.
    """

    def __init__(self, **options: Any) -> None:
        # Check the shared options (and compile their ToolSet, encode the close text) once;
        # add() without overrides reuses them for every stream.
        self._shared = StreamParser(**options)._opts
        self._close = close_ids(self._shared)
        self._options = options
        self._streams: dict[Hashable, StreamParser] = {}
        self._lock = threading.Lock()  # only ever tried, never waited for

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise TypeError("cannot pickle or copy a BatchParser: its parsers are live streams")

    def _enter(self) -> None:
        if not self._lock.acquire(blocking=False):
            raise RuntimeError(
                "BatchParser is in use by another call: concurrent use from another thread, or "
                "a re-entrant call (from an id_factory or an items generator); a BatchParser "
                "serves one call at a time"
            )

    def add(self, stream_id: Hashable, **overrides: Any) -> None:
        """Start a stream; ``overrides`` replace the shared parser options for it."""
        self._enter()
        try:
            if stream_id in self._streams:
                raise ValueError(f"stream {stream_id!r} already exists")
            if overrides:  # the shared ToolSet stays compiled unless tools is overridden
                parser = StreamParser(**{**self._options, "tools": self._shared.tools, **overrides})
            else:
                parser = StreamParser._from_options(self._shared, self._close)
            self._streams[stream_id] = parser
        finally:
            self._lock.release()

    def feed_many(self, items: Iterable[tuple[Hashable, DeltaInput]]) -> dict[Hashable, Any]:
        """Feed one delta (str, bytes or a list of token ids) to each named stream."""
        self._enter()
        try:
            if not isinstance(items, (list, tuple)):
                items = list(items)
            return _core.feed_many(self._streams, items)
        finally:
            self._lock.release()

    def finish(self, stream_id: Hashable) -> Any:
        """End a stream: its final Delta. The stream stays until ``drop()`` (for ``message``)."""
        self._enter()
        try:
            return self._get(stream_id).finish()
        finally:
            self._lock.release()

    def message(self, stream_id: Hashable) -> Message:
        return self._get(stream_id).message

    def drop(self, stream_id: Hashable) -> None:
        """Forget a stream (finished or not)."""
        self._enter()
        try:
            self._get(stream_id)
            del self._streams[stream_id]
        finally:
            self._lock.release()

    def parser(self, stream_id: Hashable) -> StreamParser:
        """The stream's own parser (for single-stream calls such as ``feed_tokens``)."""
        return self._get(stream_id)

    def __len__(self) -> int:
        return len(self._streams)

    def __contains__(self, stream_id: object) -> bool:
        return stream_id in self._streams

    def _get(self, stream_id: Hashable) -> StreamParser:
        try:
            return self._streams[stream_id]
        except KeyError:
            raise KeyError(f"unknown stream id {stream_id!r}; add() it first") from None
