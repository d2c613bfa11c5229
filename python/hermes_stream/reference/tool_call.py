"""Recogniser of one ``<tool_call>`` body, one character at a time (SPEC rules 9, 10).

Mirrors ``cpp/hermes_stream/tool_call.{h,cc}``. It runs the JSON validator over the body and
watches the root object's members: the ``name`` string (decoded; the call is *committed* when it
closes), the ``arguments`` value (an object, streamed verbatim, or a string holding an object,
streamed decoded) and the close of the root object. Other members are validated and ignored; a
repeated ``name`` or ``arguments`` member is treated like any other member.

``step(ch)`` returns OK, COMMIT (the name string just closed), CLOSED (the root object just
closed, with a name) or FAIL (``reason`` says why; the character is rejected). Argument text
produced by a step is appended to ``out``; the parser drains it.
"""

from __future__ import annotations

from .json_validator import ARR_FIRST, KEY_STATES, STRING, VALUE, VALUE_STATES, WS, JsonValidator

OK, COMMIT, CLOSED, FAIL = 0, 1, 2, 3

E_NOT_OBJECT = "not a JSON object"
E_NAME_TYPE = "name is not a string"
E_NO_NAME = "object has no name"
E_ARGS_TYPE = "arguments is not an object"
E_ARGS_STRING = "arguments string is not a complete JSON object"
ARGS_STRING_PREFIX = "arguments string: "

_NONE, _NAME, _ARGS_OBJECT, _ARGS_STRING = 0, 1, 2, 3


class CallMachine:
    def __init__(self, max_depth: int) -> None:
        self.v = JsonValidator(max_depth)
        self.max_depth = max_depth
        self.committed = False
        self.name = ""
        self.has_arguments = False
        self.reason = ""
        self.out: list[str] = []
        self._seen_name = False
        self._key: str | None = None
        self._key_parts: list[str] | None = None
        self._name_parts: list[str] = []
        self._role = _NONE
        self._inner: JsonValidator | None = None

    def _fail(self, reason: str) -> int:
        self.reason = reason
        return FAIL

    def step(self, ch: str) -> int:
        v = self.v
        st, depth = v.state, v.depth
        value_start = st in VALUE_STATES and ch not in WS and not (st == ARR_FIRST and ch == "]")
        key_start = st in KEY_STATES and ch == '"'
        string_close = st == STRING and ch == '"'
        err = v.step(ch)
        if err is not None:
            return self._fail(err)
        if depth == 0 and value_start and ch != "{":
            return self._fail(E_NOT_OBJECT)
        if v.done:
            return CLOSED if self.committed else self._fail(E_NO_NAME)
        role = self._role
        if depth == 1 and role == _NONE:
            if key_start:
                self._key_parts = []
            elif self._key_parts is not None:
                if string_close:
                    self._key = "".join(self._key_parts)
                    self._key_parts = None
                else:
                    self._key_parts.append(v.decoded)
            elif value_start:
                return self._member_value(ch)
            return OK
        if role == _NAME:
            if string_close:
                self._role = _NONE
                self.name = "".join(self._name_parts)
                self.committed = True
                return COMMIT
            self._name_parts.append(v.decoded)
        elif role == _ARGS_OBJECT:
            self.out.append(ch)
            if v.depth == 1:
                self._role = _NONE
        elif role == _ARGS_STRING:
            return self._args_string(ch, string_close)
        return OK

    def _member_value(self, ch: str) -> int:
        key = self._key
        if key == "name" and not self._seen_name:
            self._seen_name = True
            if ch != '"':
                return self._fail(E_NAME_TYPE)
            self._role = _NAME
        elif key == "arguments" and not self.has_arguments:
            self.has_arguments = True
            if ch == "{":
                self._role = _ARGS_OBJECT
                self.out.append(ch)
            elif ch == '"':
                self._role = _ARGS_STRING
                self._inner = JsonValidator(self.max_depth)
            else:
                return self._fail(E_ARGS_TYPE)
        return OK

    def _args_string(self, ch: str, string_close: bool) -> int:
        inner = self._inner
        assert inner is not None
        if string_close:
            self._role = _NONE
            return OK if inner.done else self._fail(E_ARGS_STRING)
        for c in self.v.decoded:
            ist, idepth = inner.state, inner.depth
            err = inner.step(c)
            if err is not None:
                return self._fail(ARGS_STRING_PREFIX + err)
            if idepth == 0 and ist == VALUE and c not in WS:
                if c != "{":
                    return self._fail(ARGS_STRING_PREFIX + E_NOT_OBJECT)
                self.out.append(c)
            elif idepth > 0:
                self.out.append(c)
        return OK
