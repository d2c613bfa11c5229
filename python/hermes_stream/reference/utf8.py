"""UTF-8 decoding of raw model bytes: split sequences are held, invalid bytes become U+FFFD.

Each *maximal subpart* of an ill-formed sequence becomes one U+FFFD (Unicode §3.9 best
practice), so the text of a whole stream equals ``data.decode("utf-8", "replace")``. Bytes are
held only while they are a valid, incomplete prefix of a sequence: an ill-formed byte is replaced
at once. (CPython's incremental decoder sometimes holds ill-formed bytes longer, e.g. ``ED A0``;
that would hold back text the caller could already see.)

Mirrors ``cpp/hermes_stream/utf8.{h,cc}`` (``Utf8Sanitizer``: the same class name on both sides;
the C++ one yields valid UTF-8 bytes, this one the ``str`` they decode to).
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"


def lead_info(b: int) -> tuple[int, int, int] | None:
    """For a lead byte: (continuation bytes needed, low and high bound of the first one)."""
    if b < 0x80:
        return (0, 0x80, 0xBF)
    if b < 0xC2:
        return None
    if b < 0xE0:
        return (1, 0x80, 0xBF)
    if b == 0xE0:
        return (2, 0xA0, 0xBF)
    if b == 0xED:
        return (2, 0x80, 0x9F)
    if b < 0xF0:
        return (2, 0x80, 0xBF)
    if b == 0xF0:
        return (3, 0x90, 0xBF)
    if b < 0xF4:
        return (3, 0x80, 0xBF)
    if b == 0xF4:
        return (3, 0x80, 0x8F)
    return None


class Utf8Sanitizer:
    """Incremental bytes → valid text (ill-formed bytes → U+FFFD); ``pending`` tells whether an incomplete sequence is held."""

    __slots__ = ("_held", "_need", "_lo", "_hi")

    def __init__(self) -> None:
        self._held = bytearray()
        self._need = 0
        self._lo, self._hi = 0x80, 0xBF

    def feed(self, data: bytes) -> str:
        out: list[str] = []
        run = bytearray()  # complete sequences, decoded in one go
        for b in data:
            if self._need:
                if self._lo <= b <= self._hi:
                    self._held.append(b)
                    self._need -= 1
                    self._lo, self._hi = 0x80, 0xBF
                    if not self._need:
                        run += self._held
                        self._held.clear()
                    continue
                out.append(run.decode("utf-8") + REPLACEMENT)
                run.clear()
                self._held.clear()
                self._need = 0
            info = lead_info(b)
            if info is None:
                out.append(run.decode("utf-8") + REPLACEMENT)
                run.clear()
            elif info[0] == 0:
                run.append(b)
            else:
                self._need, self._lo, self._hi = info
                self._held.append(b)
        out.append(run.decode("utf-8"))
        return "".join(out)

    def flush(self) -> str:
        """Release a held incomplete sequence (as U+FFFD) and start afresh."""
        if not self._need:
            return ""
        self._held.clear()
        self._need = 0
        self._lo, self._hi = 0x80, 0xBF
        return REPLACEMENT

    @property
    def pending(self) -> bool:
        return bool(self._need)
