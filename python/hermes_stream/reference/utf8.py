"""UTF-8 decoding of raw model bytes: split sequences are held, invalid bytes become U+FFFD.

Python's incremental ``utf-8`` decoder with ``errors="replace"`` is the definition: it replaces
each *maximal subpart* of an ill-formed sequence by one U+FFFD (Unicode §3.9), which is what the
native ``Utf8Sanitizer`` implements byte by byte.
"""

from __future__ import annotations

import codecs


class Utf8Decoder:
    """Incremental UTF-8 → str; ``pending`` tells whether an incomplete sequence is held."""

    __slots__ = ("_dec",)

    def __init__(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def feed(self, data: bytes) -> str:
        return str(self._dec.decode(data, False))

    def flush(self) -> str:
        """Release a held incomplete sequence (as U+FFFD) and start afresh."""
        return str(self._dec.decode(b"", True))

    @property
    def pending(self) -> bool:
        return bool(self._dec.getstate()[0])
