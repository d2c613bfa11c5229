"""Many streams, one native call per engine step (``hs.BatchParser``)."""

from __future__ import annotations

from typing import Any, Hashable, Iterable, Union

from . import _core
from ._parser import StreamParser
from ._types import Message

DeltaInput = Union[str, bytes, "list[int]"]


class BatchParser:
    """Holds one ``StreamParser`` per live stream and feeds them all in one native call.

    ``feed_many([(stream_id, text_or_ids), ...])`` returns ``{stream_id: Delta}``; the parsing
    runs with the GIL released, so other Python threads keep running during an engine step.
    Results are identical to one ``StreamParser`` per stream fed the same deltas.

    Thread safety: a BatchParser (like a StreamParser) belongs to one thread at a time; distinct
    parsers can be used from different threads concurrently.
    """

    def __init__(self, **options: Any) -> None:
        StreamParser(**options)  # validate the shared options now, not at the first add()
        self._options = options
        self._streams: dict[Hashable, StreamParser] = {}

    def add(self, stream_id: Hashable, **overrides: Any) -> None:
        """Start a stream; ``overrides`` replace the shared parser options for it."""
        if stream_id in self._streams:
            raise ValueError(f"stream {stream_id!r} already exists")
        self._streams[stream_id] = StreamParser(**{**self._options, **overrides})

    def feed_many(self, items: Iterable[tuple[Hashable, DeltaInput]]) -> dict[Hashable, Any]:
        """Feed one delta (str, bytes or a list of token ids) to each named stream."""
        if not isinstance(items, (list, tuple)):
            items = list(items)
        return _core.feed_many(self._streams, items)  # type: ignore[no-any-return]

    def finish(self, stream_id: Hashable) -> Any:
        """End a stream: its final Delta. The stream stays until ``drop()`` (for ``message``)."""
        return self._get(stream_id).finish()

    def message(self, stream_id: Hashable) -> Message:
        return self._get(stream_id).message

    def drop(self, stream_id: Hashable) -> None:
        """Forget a stream (finished or not)."""
        self._get(stream_id)
        del self._streams[stream_id]

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
