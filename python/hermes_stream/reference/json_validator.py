"""Incremental JSON validator (RFC 8259), one character at a time, no recursion.

Mirrors ``cpp/hermes_stream/json_validator.{h,cc}``. ``step(ch)`` returns ``None`` when ``ch``
keeps the text a valid JSON prefix, or the reason it does not (the character is then rejected and
the validator must not be used again). Inside strings, ``decoded`` is the string text that ``ch``
produced (escapes resolved; a surrogate pair yields its character at the second escape's last hex
digit). Unpaired ``\\u`` surrogates are rejected so decoded text is always valid Unicode.

Nesting lives on an explicit stack bounded by ``max_depth``.
"""

from __future__ import annotations

WS = " \t\n\r"
DIGITS = "0123456789"
HEX = "0123456789abcdefABCDEF"
ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}

# States.
VALUE = 0  # a value must come (root, after ':' or after ',' in an array)
ARR_FIRST = 1  # after '[': a value or ']'
OBJ_FIRST = 2  # after '{': a key or '}'
OBJ_KEY = 3  # after ',' in an object: a key
COLON = 4
AFTER = 5  # after a value: ',' or the container's close
STRING = 6
ESC = 7  # after '\'
HEX4 = 8  # inside \uXXXX
LOW_BS = 9  # after a high surrogate: '\' must follow
LOW_U = 10  # then 'u'
NUM_MINUS = 11
NUM_ZERO = 12
NUM_INT = 13
NUM_DOT = 14
NUM_FRAC = 15
NUM_E = 16
NUM_ESIGN = 17
NUM_EXP = 18
LITERAL = 19
DONE = 20  # the root value is complete: only whitespace may follow

VALUE_STATES = (VALUE, ARR_FIRST)
KEY_STATES = (OBJ_FIRST, OBJ_KEY)
NUMBER_END_OK = (NUM_ZERO, NUM_INT, NUM_FRAC, NUM_EXP)

E_CHAR = "unexpected character"
E_CONTROL = "control character in string"
E_ESCAPE = "invalid escape"
E_HEX = "invalid \\u escape"
E_SURROGATE = "unpaired surrogate"
E_DEPTH = "nesting too deep"


class JsonValidator:
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        self.state = VALUE
        self.stack: list[bool] = []  # True: object, False: array
        self.in_key = False
        self.decoded = ""
        self._hex = 0
        self._nhex = 0
        self._high = 0  # pending high surrogate
        self._literal = ""
        self._lit_pos = 0

    @property
    def depth(self) -> int:
        return len(self.stack)

    @property
    def done(self) -> bool:
        return self.state == DONE

    def _end_value(self) -> None:
        self.state = AFTER if self.stack else DONE

    def _open(self, is_object: bool) -> str | None:
        if len(self.stack) >= self.max_depth:
            return E_DEPTH
        self.stack.append(is_object)
        self.state = OBJ_FIRST if is_object else ARR_FIRST
        return None

    def _value_start(self, ch: str) -> str | None:
        if ch == "{":
            return self._open(True)
        if ch == "[":
            return self._open(False)
        if ch == '"':
            self.state = STRING
            self.in_key = False
        elif ch == "-":
            self.state = NUM_MINUS
        elif ch == "0":
            self.state = NUM_ZERO
        elif ch in DIGITS:
            self.state = NUM_INT
        elif ch in "tfn":
            self._literal = {"t": "true", "f": "false", "n": "null"}[ch]
            self._lit_pos = 1
            self.state = LITERAL
        else:
            return E_CHAR
        return None

    def _close(self, ch: str) -> str | None:
        if not self.stack or self.stack[-1] != (ch == "}"):
            return E_CHAR
        self.stack.pop()
        self._end_value()
        return None

    def step(self, ch: str) -> str | None:
        self.decoded = ""
        st = self.state
        if st == STRING:
            if ch == '"':
                self._end_string()
            elif ch == "\\":
                self.state = ESC
            elif ch < " ":
                return E_CONTROL
            else:
                self.decoded = ch
            return None
        if st == ESC:
            if ch == "u":
                self.state, self._hex, self._nhex = HEX4, 0, 0
            elif ch in ESCAPES:
                self.decoded = ESCAPES[ch]
                self.state = STRING
            else:
                return E_ESCAPE
            return None
        if st == HEX4:
            if ch not in HEX:
                return E_HEX
            self._hex = self._hex * 16 + int(ch, 16)
            self._nhex += 1
            if self._nhex == 4:
                return self._code_unit(self._hex)
            return None
        if st == LOW_BS:
            if ch != "\\":
                return E_SURROGATE
            self.state = LOW_U
            return None
        if st == LOW_U:
            if ch != "u":
                return E_SURROGATE
            self.state, self._hex, self._nhex = HEX4, 0, 0
            return None
        if st >= NUM_MINUS and st <= NUM_EXP:
            if self._number(ch):
                return None
            if st not in NUMBER_END_OK:
                return E_CHAR
            self._end_value()
            return self.step(ch)  # the character after a number is handled in the new state
        if st == LITERAL:
            if ch != self._literal[self._lit_pos]:
                return E_CHAR
            self._lit_pos += 1
            if self._lit_pos == len(self._literal):
                self._end_value()
            return None
        if ch in WS:
            return None
        if st in VALUE_STATES:
            if st == ARR_FIRST and ch == "]":
                return self._close(ch)
            return self._value_start(ch)
        if st in KEY_STATES:
            if ch == '"':
                self.state = STRING
                self.in_key = True
                return None
            if st == OBJ_FIRST and ch == "}":
                return self._close(ch)
            return E_CHAR
        if st == COLON:
            if ch != ":":
                return E_CHAR
            self.state = VALUE
            return None
        if st == AFTER:
            if ch == ",":
                self.state = OBJ_KEY if self.stack[-1] else VALUE
                return None
            if ch in "}]":
                return self._close(ch)
            return E_CHAR
        return E_CHAR  # DONE: only whitespace

    def _end_string(self) -> None:
        if self.in_key:
            self.state = COLON
        else:
            self._end_value()

    def _code_unit(self, u: int) -> str | None:
        if self._high:
            if not 0xDC00 <= u <= 0xDFFF:
                return E_SURROGATE
            self.decoded = chr(0x10000 + ((self._high - 0xD800) << 10) + (u - 0xDC00))
            self._high = 0
            self.state = STRING
        elif 0xD800 <= u <= 0xDBFF:
            self._high = u
            self.state = LOW_BS
        elif 0xDC00 <= u <= 0xDFFF:
            return E_SURROGATE
        else:
            self.decoded = chr(u)
            self.state = STRING
        return None

    def _number(self, ch: str) -> bool:
        """Advance a number by ``ch``; False when ``ch`` does not continue it."""
        st = self.state
        digit = ch in DIGITS
        if st == NUM_MINUS:
            if not digit:
                return False
            self.state = NUM_ZERO if ch == "0" else NUM_INT
        elif st in (NUM_ZERO, NUM_INT):
            if digit and st == NUM_INT:
                pass
            elif ch == ".":
                self.state = NUM_DOT
            elif ch in "eE":
                self.state = NUM_E
            else:
                return False
        elif st in (NUM_DOT, NUM_FRAC):
            if digit:
                self.state = NUM_FRAC
            elif st == NUM_FRAC and ch in "eE":
                self.state = NUM_E
            else:
                return False
        elif st == NUM_E:
            if ch in "+-":
                self.state = NUM_ESIGN
            elif digit:
                self.state = NUM_EXP
            else:
                return False
        else:  # NUM_ESIGN, NUM_EXP
            if not digit:
                return False
            self.state = NUM_EXP
        return True
