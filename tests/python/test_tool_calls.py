"""Tool calls: explicit cases for SPEC rules 8-12 on both backends.

Each expected value below is worked out from the rules (SPEC section 2, rules 8-12, and the design
facts of the tool-call machinery), not copied from an implementation run. ``check()`` runs a text
whole, one character per delta, one byte per delta and (for short texts) at every two-chunk split,
and asserts the same message every time plus the streaming invariants: segments join back to the
input, concatenated deltas equal the message, each call is announced once (id + name on its first
fragment) and its joined argument fragments equal ``ToolCall.arguments``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import hermes_stream as hs
from helpers import texts_only
from hermes_stream._types import message_to_dict

IDS = lambda i: f"call_{i}"  # noqa: E731

TWO_SPLIT_LIMIT = 400  # characters; longer texts get whole / 1-char / 1-byte runs only


# ------------------------------------------------------------------------------------- helpers
def stream(backend: Any, chunks: list[Any], **opts: Any) -> tuple[list[Any], Any]:
    """Feed ``chunks`` (str or bytes), finish; return (deltas incl. finish's, message)."""
    opts.setdefault("id_factory", IDS)
    opts.setdefault("reasoning_budget", None)
    p = backend.StreamParser(**opts)
    deltas = [p.feed(c) if isinstance(c, str) else p.feed_bytes(c) for c in chunks]
    deltas.append(p.finish())
    return deltas, p.message


def snapshot(m: Any) -> dict[str, Any]:
    """The message as data, without the token count (which depends on the chunking)."""
    return texts_only(message_to_dict(m))


def fragments(deltas: list[Any]) -> list[tuple[int, str | None, str | None, str]]:
    return [(c.index, c.id, c.name, c.arguments) for d in deltas for c in d.tool_calls]


def streamed_arguments(deltas: list[Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for index, _id, _name, args in fragments(deltas):
        out[index] = out.get(index, "") + args
    return out


def check_stream(deltas: list[Any], m: Any, text: str) -> None:
    """Invariants of one run: lossless, append-only, exactly-once announcements and arguments."""
    assert "".join(s.text for s in m.segments) == text  # rule 1 (no budget in these tests)
    assert all(s.text for s in m.segments), "empty segment"
    assert "".join(d.content for d in deltas) == m.content
    assert "".join(d.reasoning for d in deltas) == m.reasoning
    announced: dict[int, tuple[str, str]] = {}
    for index, cid, name, _args in fragments(deltas):
        if cid is not None:
            assert index not in announced, f"call {index} announced twice"
            assert name is not None
            announced[index] = (cid, name)
        else:
            assert name is None
            assert index in announced, f"fragment of call {index} before its id/name"
            assert _args, "empty fragment"  # a fragment carries an announcement or text
    args = streamed_arguments(deltas)
    indexes = {c.index for c in m.tool_calls}
    assert set(args) <= indexes
    for c in m.tool_calls:
        if c.error is not None and c.error.startswith("unknown tool"):
            assert c.index not in args  # rule 11: an unknown tool's deltas are never sent
            continue
        assert announced[c.index] == (c.id, c.name)
        assert args[c.index] == c.arguments  # rule 3


def check(
    backend: Any,
    text: str,
    *,
    content: str,
    calls: list[tuple[str, str, str | None, str]],
    reasoning: str = "",
    two_splits: bool | None = None,
    **opts: Any,
) -> Any:
    """Assert the message of ``text`` (calls: (name, arguments, error, raw), ids call_<index>)
    under whole / per-char / per-byte / every two-chunk feeding. Returns the whole-text message."""
    deltas, m = stream(backend, [text], **opts)
    assert m.content == content
    assert m.reasoning == reasoning
    got = [(c.index, c.id, c.name, c.arguments, c.error, c.raw) for c in m.tool_calls]
    want = [(i, f"call_{i}", *call) for i, call in enumerate(calls)]
    assert got == want
    check_stream(deltas, m, text)
    expected = snapshot(m)
    raw = text.encode()
    variants: list[list[Any]] = [list(text)]
    if len(raw) != len(text):
        variants.append([raw[i : i + 1] for i in range(len(raw))])
    if two_splits is None:
        two_splits = len(text) <= TWO_SPLIT_LIMIT
    if two_splits:
        variants += [[text[:i], text[i:]] for i in range(1, len(text))]
        if len(raw) != len(text):  # splits inside UTF-8 sequences too
            variants += [[raw[:i], raw[i:]] for i in range(1, len(raw))]
    for chunks in variants:
        d2, m2 = stream(backend, chunks, **opts)
        assert snapshot(m2) == expected, [len(c) for c in chunks]
        check_stream(d2, m2, text)
    return m


def tc(body: str, close: str = "</tool_call>") -> str:
    return "<tool_call>" + body + close


def at(body: str, marker: str, start: int = 0) -> int:
    """UTF-8 byte offset of ``marker`` in ``body`` (for error offsets)."""
    return len(body[: body.index(marker, start)].encode())


# ------------------------------------------------------------------------------- well-formed calls
def test_single_call(backend: Any) -> None:
    body = '\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "c"}}\n'
    text = tc(body)
    m = check(
        backend, text, content="",
        calls=[("get_weather", '{"city": "Paris", "unit": "c"}', None, body)],
    )
    assert [(s.kind, s.text) for s in m.segments] == [
        ("tag", "<tool_call>"), ("tool_call", body), ("tag", "</tool_call>"),
    ]
    assert m.tool_calls[0].parsed_arguments == {"city": "Paris", "unit": "c"}


def test_several_calls_with_text_around(backend: Any) -> None:
    b0 = '{"name": "a", "arguments": {"x": 1}}'
    b1 = ' {"name": "b", "arguments": {}} '
    b2 = '{"name": "c"}'
    text = "Let me check. " + tc(b0) + " then " + tc(b1) + "\n" + tc(b2) + " done."
    m = check(
        backend, text, content="Let me check.  then \n done.",
        calls=[("a", '{"x": 1}', None, b0), ("b", "{}", None, b1), ("c", "{}", None, b2)],
    )
    assert [c.index for c in m.tool_calls] == [0, 1, 2]
    assert [(s.kind, s.text) for s in m.segments] == [
        ("content", "Let me check. "),
        ("tag", "<tool_call>"), ("tool_call", b0), ("tag", "</tool_call>"),
        ("content", " then "),
        ("tag", "<tool_call>"), ("tool_call", b1), ("tag", "</tool_call>"),
        ("content", "\n"),
        ("tag", "<tool_call>"), ("tool_call", b2), ("tag", "</tool_call>"),
        ("content", " done."),
    ]


def test_think_close_and_call_in_one_delta(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"q": 1}}'
    text = "<think>I should call f.</think>" + tc(body)
    check(backend, text, reasoning="I should call f.", content="", calls=[("f", '{"q": 1}', None, body)])
    deltas, _ = stream(backend, ["<think>I should call f.", "</think>" + tc(body)])
    assert (deltas[0].reasoning, deltas[0].tool_calls) == ("I should call f.", [])
    second = deltas[1]
    assert (second.reasoning, second.content) == ("", "")
    assert fragments([second]) == [(0, "call_0", "f", '{"q": 1}')]


def test_tag_text_inside_json_strings(backend: Any) -> None:
    args = '{"html": "<tool_call>x</tool_call>", "t": "<think>y</think>", "p": "</tool_"}'
    body = '{"name": "a</tool_call>b", "arguments": ' + args + "}"
    check(backend, tc(body) + "after", content="after", calls=[("a</tool_call>b", args, None, body)])


def test_braces_inside_strings(backend: Any) -> None:
    args = '{"code": "if (x) { return \\"}\\"; }", "k}{": "}}}", "b": "{"}'
    body = '{"name": "run", "arguments": ' + args + "}"
    m = check(backend, tc(body), content="", calls=[("run", args, None, body)])
    assert m.tool_calls[0].parsed_arguments["code"] == 'if (x) { return "}"; }'


def test_backslash_runs_before_quotes(backend: Any) -> None:
    value = {"p1": "\\", "p2": '\\"', "p3": "end\\\\", "p4": '"}\\', "p5": '\\\\\\"</tool_call>'}
    args = json.dumps(value)
    body = '{"name": "f", "arguments": ' + args + "}"
    m = check(backend, tc(body), content="", calls=[("f", args, None, body)])
    assert m.tool_calls[0].parsed_arguments == value
    # the same object string-encoded: decoded once, so the inner escapes come out as written
    body2 = '{"name": "f", "arguments": ' + json.dumps(args) + "}"
    m2 = check(backend, tc(body2), content="", calls=[("f", args, None, body2)])
    assert m2.tool_calls[0].parsed_arguments == value


def test_arrays_of_objects(backend: Any) -> None:
    args = (
        '{"items": [{"id": 1, "tags": ["a", "b"]}, {"id": 2, "tags": []}], '
        '"m": [[], [{}], [[1, 2.5e-3, -0.0, 1E+2, true, false, null]]]}'
    )
    body = '{"name": "batch", "arguments": ' + args + "}"
    m = check(backend, tc(body), content="", calls=[("batch", args, None, body)])
    assert m.tool_calls[0].parsed_arguments["items"][1] == {"id": 2, "tags": []}


def test_cjk_and_emoji(backend: Any) -> None:
    args = '{"city": "東京", "note": "😀👍🏽 ok", "ko": "안녕", "ключ": "значение"}'
    body = '{"name": "天気", "arguments": ' + args + "}"
    text = "前 " + tc(body) + " 後😀"
    check(backend, text, content="前  後😀", calls=[("天気", args, None, body)])


def test_unicode_escapes_in_name_and_object_arguments(backend: Any) -> None:
    # Object arguments are verbatim: escapes stay escapes. The name is decoded.
    args = '{"e": "\\ud83d\\ude00", "c": "\\u6771\\u4EAC", "z": "\\u0000"}'
    body = '{"name": "f\\u00e9\\ud83d\\ude00", "arguments": ' + args + "}"
    m = check(backend, tc(body), content="", calls=[("fé😀", args, None, body)])
    assert m.tool_calls[0].parsed_arguments == {"e": "😀", "c": "東京", "z": "\x00"}


def test_surrogate_pair_split_across_deltas_in_string_arguments(backend: Any) -> None:
    # String-encoded arguments are decoded once: the outer \ud83d\ude00 pair becomes one character,
    # which can only go out once the low surrogate's last hex digit arrived.
    body = '{"name": "f", "arguments": "{\\"e\\": \\"\\ud83d\\ude00!\\"}"}'
    text = tc(body)
    m = check(backend, text, content="", calls=[("f", '{"e": "😀!"}', None, body)])
    assert m.tool_calls[0].parsed_arguments == {"e": "😀!"}
    cut1 = text.index("\\ude00")  # between the two escapes
    cut2 = cut1 + 4  # inside the low surrogate's hex digits
    cut3 = cut1 + 6  # right after its last hex digit
    chunks = [text[:cut1], text[cut1:cut2], text[cut2:cut3], text[cut3:]]
    deltas, m2 = stream(backend, chunks)
    assert snapshot(m2) == snapshot(m)
    assert fragments(deltas) == [
        (0, "call_0", "f", '{"e": "'),
        (0, None, None, "😀"),
        (0, None, None, '!"}'),
    ]
    assert [len(d.tool_calls) for d in deltas] == [1, 0, 1, 1, 0]


@pytest.mark.parametrize(
    ("escape", "reason"),
    [("\\ud83d", "unpaired surrogate"), ("\\ude00", "unpaired surrogate"), ("\\ud83dx", "unpaired surrogate")],
)
def test_unpaired_surrogate_escape_after_name_is_error(backend: Any, escape: str, reason: str) -> None:
    body = '{"name": "f", "arguments": {"e": "' + escape + '"}}'
    # the first byte that cannot continue: the one after \ud83d, or the last hex digit of \ude00
    if escape == "\\ude00":
        offset = at(body, "\\ude00") + 5
    else:
        offset = at(body, "\\ud83d") + 6
    check(
        backend, tc(body) + "ok", content="ok",
        calls=[("f", '{"e": "' + escape[: offset - at(body, "\\u")], f"{reason} at byte {offset}", body)],
    )


def test_parameterless_calls(backend: Any) -> None:
    bodies = [
        '{"name": "f"}',
        '{"name": "f", "arguments": {}}',
        '{"arguments": {}, "name": "f"}',
        ' { "name" : "f" , "other": [1, {"x": null}] } ',
        '{"name": "f", "arguments": { }}',
    ]
    expected_args = ["{}", "{}", "{}", "{}", "{ }"]
    text = "".join(tc(b) for b in bodies)
    check(
        backend, text, content="",
        calls=[("f", a, None, b) for a, b in zip(expected_args, bodies)],
    )


def test_parameterless_call_streams_empty_object_at_root_close(backend: Any) -> None:
    deltas, m = stream(backend, ['<tool_call>{"name": "f"', " }", "</tool_call>"])
    assert [fragments([d]) for d in deltas] == [
        [(0, "call_0", "f", "")],
        [(0, None, None, "{}")],
        [],
        [],
    ]
    assert m.tool_calls[0].arguments == "{}"


def test_arguments_before_name(backend: Any) -> None:
    args = '{"a": [1, 2], "s": "x}"}'
    body = '{"arguments": ' + args + ', "other": 0, "name": "f"}'
    check(backend, "pre" + tc(body), content="pre", calls=[("f", args, None, body)])
    chunks = ['pre<tool_call>{"arguments": {"a": [1, ', '2], "s": "x}"}, "other": 0, "na', 'me": "f', '"', "}</tool_call>"]
    assert "".join(chunks) == "pre" + tc(body)
    deltas, m = stream(backend, chunks)
    assert [d.content for d in deltas] == ["pre", "", "", "", "", ""]
    # nothing of the call goes out before its name closes; then id, name and the buffered arguments
    assert [fragments([d]) for d in deltas] == [[], [], [], [(0, "call_0", "f", args)], [], []]
    assert m.tool_calls[0].arguments == args


def test_arguments_before_name_then_no_name_is_not_a_call(backend: Any) -> None:
    body = '{"arguments": {"a": 1}}'
    text = tc(body) + "x"
    check(backend, text, content=text, calls=[])
    deltas, _ = stream(backend, list(text))
    assert fragments(deltas) == []


def test_string_encoded_arguments(backend: Any) -> None:
    inner = '{"city": "Paris", "n": [1, 2], "q": "say \\"hi\\"", "u": "é😀"}'
    body = '{"name": "f", "arguments": ' + json.dumps(inner) + "}"
    m = check(backend, tc(body), content="", calls=[("f", inner, None, body)])
    assert m.tool_calls[0].parsed_arguments == {"city": "Paris", "n": [1, 2], "q": 'say "hi"', "u": "é😀"}
    # ensure_ascii escapes on the outer level decode to the characters themselves
    body2 = '{"name": "f", "arguments": ' + json.dumps(inner, ensure_ascii=True) + "}"
    check(backend, tc(body2), content="", calls=[("f", inner, None, body2)])


def test_string_encoded_arguments_streams_decoded_text(backend: Any) -> None:
    text = '<tool_call>{"name": "f", "arguments": " {\\"a\\": \\"b\\\\\\"c\\"} "}</tool_call>'
    # outer string decodes to ' {"a": "b\\"c"} '; whitespace around the inner object is not sent
    m = check(
        backend, text, content="",
        calls=[("f", '{"a": "b\\"c"}', None, text[len("<tool_call>") : -len("</tool_call>")])],
    )
    assert m.tool_calls[0].parsed_arguments == {"a": 'b"c'}
    cut = text.index('\\"a')  # inside the escape: the quote goes out with its escape's second char
    chunks = [text[: cut + 1], text[cut + 1 : cut + 2], text[cut + 2 :]]
    deltas, _ = stream(backend, chunks)
    assert [fragments([d]) for d in deltas] == [
        [(0, "call_0", "f", "{")],
        [(0, None, None, '"')],
        [(0, None, None, 'a": "b\\"c"}')],
        [],
    ]


@pytest.mark.parametrize(
    ("arguments", "marker", "reason", "sent"),
    [
        ('"[1]"', "[", "arguments string: not a JSON object", ""),
        ('"{\\"a\\": 1"', '"}', "arguments string is not a complete JSON object", '{"a": 1'),
        ('""', '""', "arguments string is not a complete JSON object", ""),
        ('"{} x"', "x", "arguments string: unexpected character", "{}"),
        ("5", "5", "arguments is not an object", ""),
        ("null", "null", "arguments is not an object", ""),
        ("[]", "[", "arguments is not an object", ""),
    ],
)
def test_bad_arguments_after_name_is_error(
    backend: Any, arguments: str, marker: str, reason: str, sent: str
) -> None:
    body = '{"name": "f", "arguments": ' + arguments + "}"
    start = len('{"name": "f", "arguments": ')
    offset = at(body, marker, start) + (1 if marker == '""' else 0)
    check(backend, tc(body) + "z", content="z", calls=[("f", sent, f"{reason} at byte {offset}", body)])


def test_bad_arguments_before_name_is_not_a_call(backend: Any) -> None:
    for arguments in ('"[1]"', "5", "[]", '"{"'):
        text = tc('{"arguments": ' + arguments + ', "name": "f"}') + "z"
        check(backend, text, content=text, calls=[], two_splits=False)


def test_duplicated_keys_first_wins(backend: Any) -> None:
    b0 = '{"name": "f", "arguments": {"a": 1}, "name": "g", "arguments": {"b": 2}}'
    b1 = '{"name": "f", "name": 5, "arguments": {"a": 1, "a": 2}}'
    b2 = '{"arguments": {"a": 1}, "arguments": "zzz", "name": "h"}'
    check(
        backend, tc(b0) + tc(b1) + tc(b2), content="",
        calls=[("f", '{"a": 1}', None, b0), ("f", '{"a": 1, "a": 2}', None, b1), ("h", '{"a": 1}', None, b2)],
        two_splits=False,
    )


def test_keys_are_decoded_and_exact(backend: Any) -> None:
    body = '{"na\\u006de": "f", "arg\\u0075ments": {"x": 1}}'
    check(backend, tc(body), content="", calls=[("f", '{"x": 1}', None, body)])
    # "Name" / "name " are other keys: an object without a name is not a call
    for other in ('{"Name": "f"}', '{"name ": "f"}', '{"n": {"name": "f"}}'):
        check(backend, tc(other), content=tc(other), calls=[], two_splits=False)


# ----------------------------------------------------------------------------------- not a call
def test_prose_mentioning_tool_call_is_content(backend: Any) -> None:
    text = 'Use the <tool_call> tag, e.g. <tool_call></tool_call>, or write "<tool_call>" literally: <tool_call>[1]'
    check(backend, text, content=text, calls=[])


def test_tag_right_after_open_tag_is_reparsed(backend: Any) -> None:
    check(backend, "<tool_call><think>r</think>c", content="<tool_call>c", reasoning="r", calls=[])
    check(
        backend, "<tool_call>\n<tool_call>{\"name\": \"f\"}</tool_call>", content="<tool_call>\n",
        calls=[("f", "{}", None, '{"name": "f"}')],
    )


@pytest.mark.parametrize(
    "tail",
    [
        "<", "<tool_", "<tool_call", "<tool_call>", "<tool_call> ", '<tool_call>{"name": "f', "<tool_call>{",
        '<tool_call>{"name"', '<tool_call>{"x": "<thi', '<tool_call>{"x": "<tool_call>{"name": "f',
        '<tool_call>{"arguments": {"a": 1}, "name": ',
    ],
)
def test_partial_tag_or_unnamed_body_at_end_is_content(backend: Any, tail: str) -> None:
    text = "Calling " + tail
    check(backend, text, content=text, calls=[])


def test_name_not_a_string_is_not_a_call(backend: Any) -> None:
    bodies = ('{"name": 5}', '{"name": null, "arguments": {}}', '{"name": ["f"]}', '{"name": {"x": 1}}',
              '{"name": 5, "name": "f"}')
    for body in bodies:
        text = tc(body) + "!"
        check(backend, text, content=text, calls=[], two_splits=False)


def test_invalid_body_before_name_is_reparsed_as_content(backend: Any) -> None:
    # '}' closes the object without a name: the tag is content and the held body is scanned
    # again, where <think> opens reasoning.
    text = '<tool_call>{"x": "<think>hi</think>"}</tool_call>'
    m = check(backend, text, content='<tool_call>{"x": ""}</tool_call>', reasoning="hi", calls=[])
    assert [(s.kind, s.text) for s in m.segments] == [
        ("content", '<tool_call>{"x": "'),
        ("tag", "<think>"),
        ("reasoning", "hi"),
        ("tag", "</think>"),
        ("content", '"}</tool_call>'),
    ]


def test_reparsed_body_can_open_a_real_call(backend: Any) -> None:
    # The first block fails at '<' (before any name): its body '{"bad": ' is content, and the
    # scan resumes at the failing byte, which starts a real call.
    text = '<tool_call>{"bad": <tool_call>{"name": "f"}</tool_call>'
    check(backend, text, content='<tool_call>{"bad": ', calls=[("f", "{}", None, '{"name": "f"}')])
    # The held body itself contains a tag: re-parsing it opens a call that continues with the
    # rest of the stream.
    text2 = '<tool_call>{"x": "<tool_call>{"name": "f"}</tool_call>'
    check(backend, text2, content='<tool_call>{"x": "', calls=[("f", "{}", None, '{"name": "f"}')])


def test_not_a_call_nul_before_name(backend: Any) -> None:
    text = '<tool_call>{"na\x00me": "f"}</tool_call>'
    check(backend, text, content=text, calls=[])


# ----------------------------------------------------------------------------- errors after name
# (arguments text, index of the first byte that cannot continue it, reason)
GRAMMAR_ERRORS = [
    ('{"a": 01}', 7, "unexpected character"),
    ('{"a": 1.}', 8, "unexpected character"),
    ('{"a": -}', 7, "unexpected character"),
    ('{"a": .5}', 6, "unexpected character"),
    ('{"a": +1}', 6, "unexpected character"),
    ('{"a": 1e}', 8, "unexpected character"),
    ('{"a": 1e+}', 9, "unexpected character"),
    ('{"a": tru}', 9, "unexpected character"),
    ('{"a": True}', 6, "unexpected character"),
    ('{"a": NaN}', 6, "unexpected character"),
    ('{"a": Infinity}', 6, "unexpected character"),
    ("{\"a\": 'x'}", 6, "unexpected character"),
    ('{"a": 1 2}', 8, "unexpected character"),
    ('{"a" 1}', 5, "unexpected character"),
    ("{a: 1}", 1, "unexpected character"),
    ('{"a": [1,]}', 9, "unexpected character"),
    ('{"a": [1}', 8, "unexpected character"),
    ('{"a": 1,}', 8, "unexpected character"),
    ('{"a": "\\x"}', 8, "invalid escape"),
    ('{"a": "\\u12G4"}', 11, "invalid \\u escape"),
    ('{"a": "tab\there"}', 10, "control character in string"),
    ('{"a": "nl\nhere"}', 9, "control character in string"),
]


@pytest.mark.parametrize(("args", "bad", "reason"), GRAMMAR_ERRORS)
def test_json_grammar_errors_after_name(backend: Any, args: str, bad: int, reason: str) -> None:
    head = '{"name": "f", "arguments": '
    body = head + args + "}"
    check(
        backend, tc(body) + "!", content="!",
        calls=[("f", args[:bad], f"{reason} at byte {len(head) + bad}", body)],
    )


def test_json_grammar_edge_values_are_valid(backend: Any) -> None:
    args = '{"a": -0.0e-0, "b": [], "c": {}, "d": "", "e": "\\/\\b\\f\\n\\r\\t\\\\", "f": 0, "g": 1E5, "h": [null, true, false]}'
    body = '{"name": "f", "arguments":\r\n\t' + args + "\t}"
    m = check(backend, tc(body), content="", calls=[("f", args, None, body)])
    assert m.tool_calls[0].parsed_arguments["e"] == "/\b\f\n\r\t\\"


def test_invalid_json_after_name(backend: Any) -> None:
    b0 = '{"name": "f", "arguments": {"a": 1,}}'
    b1 = '{"name": "g"}'
    assert at(b0, ",}") + 1 == 35
    check(
        backend, "A" + tc(b0) + "B" + tc(b1) + "C", content="ABC",
        calls=[("f", '{"a": 1,', "unexpected character at byte 35", b0), ("g", "{}", None, b1)],
    )


def test_error_raw_search_starts_at_failing_byte(backend: Any) -> None:
    # The failing byte is the '<' of </tool_call> itself: raw stops right there.
    body = '{"name": "f", "arguments": {"a": 1'
    text = tc(body) + "after"
    m = check(backend, text, content="after", calls=[("f", '{"a": 1', "unexpected character at byte 34", body)])
    assert [(s.kind, s.text) for s in m.segments] == [
        ("tag", "<tool_call>"), ("tool_call", body), ("tag", "</tool_call>"), ("content", "after"),
    ]


def test_error_raw_runs_to_next_close_tag_or_end(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"a": x <think>no</think> "</tool_call>" }'
    raw = body[: body.index("</tool_call>")]
    text = "<tool_call>" + body + " tail"
    check(
        backend, text, content='" } tail',
        calls=[("f", '{"a": ', f"unexpected character at byte {at(body, 'x')}", raw)],
    )
    # no close tag at all: raw runs to the end of the stream (partial close tag included)
    body2 = '{"name": "f", "arguments": {"a": x} more </tool_'
    check(
        backend, "<tool_call>" + body2, content="",
        calls=[("f", '{"a": ', f"unexpected character at byte {at(body2, 'x')}", body2)],
    )


def test_open_tag_inside_failed_call_is_raw(backend: Any) -> None:
    # after the name, a failure makes everything up to the next </tool_call> raw, tags included
    body = '{"name": "f", "arguments": {"a": <tool_call>{"name": "g"}'
    check(
        backend, tc(body) + "z", content="z",
        calls=[("f", '{"a": ', f"unexpected character at byte {at(body, '<')}", body)],
    )


def test_long_keys_are_other_members(backend: Any) -> None:
    body = '{"name_of_the_function_here": "x", "arguments_but_longer_than_usual": {"a": 1}, "name": "f"}'
    check(backend, tc(body), content="", calls=[("f", "{}", None, body)])


def test_error_offset_is_utf8_bytes(backend: Any) -> None:
    body = '{"name": "天気", "arguments": {"q": "東京😀"} x}'
    assert at(body, " x") + 1 == 52
    check(
        backend, tc(body) + "é", content="é",
        calls=[("天気", '{"q": "東京😀"}', "unexpected character at byte 52", body)],
    )


def test_garbage_after_root_object_is_error(backend: Any) -> None:
    body = '{"name": "f"} junk'
    check(backend, tc(body) + "ok", content="ok", calls=[("f", "{}", "unexpected character at byte 14", body)])
    body2 = '{"name": "f", "arguments": {"a": 1}}\n\t {}'
    check(
        backend, tc(body2), content="",
        calls=[("f", '{"a": 1}', f"unexpected character at byte {at(body2, ' {}') + 1}", body2)],
    )


def test_nul_byte_in_string_after_name_is_error(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"a": "x\x00y"}}'
    check(
        backend, tc(body) + "k", content="k",
        calls=[("f", '{"a": "x', f"control character in string at byte {at(body, chr(0))}", body)],
    )


def test_truncated_call_at_end(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"a": "b'
    check(backend, "x" + tc(body, close=""), content="x", calls=[("f", '{"a": "b', "truncated at byte 35", body)])
    body2 = '{"name": "東", "arguments": {"a": "</tool_'  # a partial close tag inside a string
    n = len(body2.encode())
    check(backend, tc(body2, close=""), content="", calls=[("東", '{"a": "</tool_', f"truncated at byte {n}", body2)])
    body3 = '{"name": "f"'
    check(backend, tc(body3, close=""), content="", calls=[("f", "", "truncated at byte 12", body3)])


def test_complete_object_without_close_tag_is_valid(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"a": 1}}\n'
    check(backend, tc(body, close=""), content="", calls=[("f", '{"a": 1}', None, body)])


@pytest.mark.parametrize("partial", ["<", "</tool_", "</tool_call", "\n</tool_"])
def test_partial_close_tag_after_complete_object_stays_in_the_call(backend: Any, partial: str) -> None:
    # Rule 12: the object is complete, so the call is valid without </tool_call>; the partial tag
    # at the end is text of its region (rule 4: finish() releases held text into the current
    # region), which is the call block: it belongs to raw, not to content.
    body = '{"name": "f"}' + partial
    m = check(backend, tc(body, close=""), content="", calls=[("f", "{}", None, body)])
    assert [(s.kind, s.text) for s in m.segments] == [("tag", "<tool_call>"), ("tool_call", body)]


def test_error_keeps_first_reason(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"a": ]}} also bad'
    check(
        backend, tc(body, close=""), content="",
        calls=[("f", '{"a": ', f"unexpected character at byte {at(body, ']')}", body)],
    )


# ------------------------------------------------------------------------- reasoning interplay
def test_tool_call_inside_reasoning_is_reasoning_by_default(backend: Any) -> None:
    text = '<think>maybe <tool_call>{"name": "f"}</tool_call> hmm</think>ok'
    check(backend, text, reasoning='maybe <tool_call>{"name": "f"}</tool_call> hmm', content="ok", calls=[])


def test_tool_calls_in_reasoning_true_closes_reasoning(backend: Any) -> None:
    body = '{"name": "f", "arguments": {"a": 1}}'
    text = "<think>maybe " + tc(body) + " hmm</think>ok"
    # after the call the parser is in content, where </think> is plain text (rule 7)
    m = check(
        backend, text, reasoning="maybe ", content=" hmm</think>ok",
        calls=[("f", '{"a": 1}', None, body)], tool_calls_in_reasoning=True,
    )
    assert [s.kind for s in m.segments] == ["tag", "reasoning", "tag", "tool_call", "tag", "content"]
    check(
        backend, "plan" + tc(body), reasoning="plan", content="",
        calls=[("f", '{"a": 1}', None, body)], tool_calls_in_reasoning=True, start_in_reasoning=True,
    )


def test_tool_calls_in_reasoning_not_a_call_stays_reasoning(backend: Any) -> None:
    text = "<think>a <tool_call> is a tag</think>b"
    check(backend, text, reasoning="a <tool_call> is a tag", content="b", calls=[], tool_calls_in_reasoning=True)
    text2 = '<think>x<tool_call>{"k": "<think>"}</think>y'
    check(backend, text2, reasoning='x<tool_call>{"k": "<think>"}', content="y", calls=[], tool_calls_in_reasoning=True)


# ------------------------------------------------------------------------------------- latency
def test_name_and_arguments_latency(backend: Any) -> None:
    chunks = [
        "Sure.<tool_call>\n",
        '{"name": "get_',
        'weather"',
        ', "arguments": {"city": "Pa',
        'ris", "days": [1',
        ", 2]}",
        "}\n</tool_call>",
        " Done.",
    ]
    deltas, m = stream(backend, chunks)
    assert [d.content for d in deltas] == ["Sure.", "", "", "", "", "", "", " Done.", ""]
    assert [bool(d) for d in deltas] == [True, False, True, True, True, True, False, True, False]
    assert [fragments([d]) for d in deltas] == [
        [],
        [],
        [(0, "call_0", "get_weather", "")],  # the delta whose text closes the name
        [(0, None, None, '{"city": "Pa')],
        [(0, None, None, 'ris", "days": [1')],
        [(0, None, None, ", 2]}")],
        [],
        [],
        [],
    ]
    assert m.tool_calls[0].arguments == '{"city": "Paris", "days": [1, 2]}'


def test_name_latency_with_utf8_split_bytes(backend: Any) -> None:
    data = '<tool_call>{"name": "東京", "arguments": {"k": "é"}}</tool_call>'.encode()
    cut_name = data.index("京".encode()) + 1  # inside the name's last character
    cut_close = data.index(b'", "arguments')  # before the closing quote of the name
    cut_arg = data.index("é".encode()) + 1  # inside é
    chunks = [data[:cut_name], data[cut_name:cut_close], data[cut_close:cut_arg], data[cut_arg:]]
    deltas, m = stream(backend, chunks)
    assert [fragments([d]) for d in deltas] == [
        [],
        [],
        [(0, "call_0", "東京", '{"k": "')],
        [(0, None, None, 'é"}')],
        [],
    ]
    assert m.tool_calls[0].arguments == '{"k": "é"}'


def test_calls_in_one_delta_and_fragment_order(backend: Any) -> None:
    text = tc('{"name": "a", "arguments": {"x": 1}}') + tc('{"name": "b"}') + tc('{"arguments": {"y": 2}, "name": "c"}')
    deltas, _ = stream(backend, [text])
    assert fragments([deltas[0]]) == [
        (0, "call_0", "a", '{"x": 1}'),
        (1, "call_1", "b", "{}"),
        (2, "call_2", "c", '{"y": 2}'),
    ]


# -------------------------------------------------------------------------------- ids and OpenAI
def test_default_ids_unique_and_shaped(backend: Any) -> None:
    text = tc('{"name": "a"}') * 3
    seen = []
    for _ in range(2):
        p = backend.StreamParser()
        d = p.feed(text)
        p.finish()
        ids = [c.id for c in p.message.tool_calls]
        assert [c.index for c in p.message.tool_calls] == [0, 1, 2]
        assert [c.id for c in d.tool_calls] == ids
        for cid in ids:
            assert re.fullmatch(r"call_[A-Za-z0-9]{24}", cid), cid
        seen += ids
    assert len(set(seen)) == 6


def test_id_factory_receives_index(backend: Any) -> None:
    calls = []

    def factory(i: int) -> str:
        calls.append(i)
        return f"id-{i}-x"

    m = backend.parse("x" + tc('{"name": "a"}') + tc('{"bad"') + tc('{"name": "b"}'), id_factory=factory)
    assert [(c.index, c.id) for c in m.tool_calls] == [(0, "id-0-x"), (1, "id-1-x")]
    assert calls == [0, 1]


def test_to_openai_shape(backend: Any) -> None:
    p = backend.StreamParser(id_factory=IDS, reasoning_budget=None)
    d1 = p.feed('<think>r</think>Hi<tool_call>{"name": "f"')
    d2 = p.feed(', "arguments": {"a": 1}}</tool_call><tool_call>{"name": "g", "arguments": {')
    d3 = p.feed("}}</tool_call>")
    d4 = p.finish()
    assert d1.to_openai() == {
        "reasoning_content": "r",
        "content": "Hi",
        "tool_calls": [{"index": 0, "id": "call_0", "type": "function", "function": {"name": "f"}}],
    }
    assert d2.to_openai() == {
        "tool_calls": [
            {"index": 0, "function": {"arguments": '{"a": 1}'}},
            {"index": 1, "id": "call_1", "type": "function", "function": {"name": "g", "arguments": "{"}},
        ]
    }
    assert d3.to_openai() == {"tool_calls": [{"index": 1, "function": {"arguments": "}"}}]}
    assert d4.to_openai() == {}
    assert not d4
    assert d3


# ------------------------------------------------------------------------------- hostile bodies
def test_deep_nesting_in_arguments_is_error_not_crash(backend: Any) -> None:
    n = 200_000
    head = '{"name": "f", "arguments": {"a": '
    body = head + "[" * n + "]" * n + "}}"
    p = backend.StreamParser(id_factory=IDS)
    deltas = [p.feed("<tool_call>" + body + "</tool_call>after"), p.finish()]
    m = p.message
    # the root object and the arguments object are 2 levels: 510 '[' fit under the default 512
    assert [(c.name, c.arguments, c.error) for c in m.tool_calls] == [
        ("f", '{"a": ' + "[" * 510, f"nesting too deep at byte {len(head) + 510}")
    ]
    assert m.tool_calls[0].raw == body
    assert m.content == "after"
    assert streamed_arguments(deltas) == {0: m.tool_calls[0].arguments}


def test_deep_nesting_before_name_is_content(backend: Any) -> None:
    text = '<tool_call>{"a": ' + "[" * 100_000 + '], "name": "f"}</tool_call>'
    m = backend.parse(text)
    assert m.tool_calls == [] and m.content == text


def test_max_json_depth_option(backend: Any) -> None:
    ok = '{"name": "f", "arguments": {"a": [1]}}'
    deep = '{"name": "f", "arguments": {"a": [[1]]}}'
    check(backend, tc(ok), content="", calls=[("f", '{"a": [1]}', None, ok)], max_json_depth=3, two_splits=False)
    check(
        backend, tc(deep), content="",
        calls=[("f", '{"a": [', f"nesting too deep at byte {at(deep, '[[') + 1}", deep)],
        max_json_depth=3, two_splits=False,
    )
    # with depth 1 the arguments object itself is too deep
    check(
        backend, tc(ok), content="",
        calls=[("f", "", f"nesting too deep at byte {at(ok, '{', 1)}", ok)],
        max_json_depth=1, two_splits=False,
    )


def test_huge_string_argument(backend: Any) -> None:
    size = 2_000_000 if backend.name == "native" else 500_000  # the reference is pure Python
    value = ("abc é 😀 \\\" <tool_call> } " * (size // 20 + 1))[:size]
    value = value.rstrip("\\")
    args = '{"s": "' + value + '"}'
    text = tc('{"name": "f", "arguments": ' + args + "}")
    raw = text.encode()
    step = 65_536 + 1  # odd, so cuts land inside UTF-8 sequences and escapes
    p = backend.StreamParser(id_factory=IDS)
    deltas = [p.feed_bytes(raw[i : i + step]) for i in range(0, len(raw), step)]
    deltas.append(p.finish())
    m = p.message
    assert [(c.name, c.error) for c in m.tool_calls] == [("f", None)]
    assert m.tool_calls[0].arguments == args
    assert streamed_arguments(deltas) == {0: args}
    assert "".join(s.text for s in m.segments) == text


def test_huge_exponent_is_valid(backend: Any) -> None:
    args = '{"x": 1e999999, "y": -1E-999999, "z": 0.5e+3}'
    body = '{"name": "f", "arguments": ' + args + "}"
    m = check(backend, tc(body), content="", calls=[("f", args, None, body)])
    assert m.tool_calls[0].parsed_arguments["x"] == float("inf")


def test_many_open_tags_in_a_row(backend: Any) -> None:
    n = 5_000
    text = "<tool_call>" * n
    m = backend.parse(text)
    assert m.content == text and m.tool_calls == []
    text2 = text + '{"name": "f"}</tool_call>'
    m2 = backend.parse(text2, id_factory=IDS)
    assert m2.content == "<tool_call>" * (n - 1)
    assert [(c.index, c.name, c.arguments, c.error) for c in m2.tool_calls] == [(0, "f", "{}", None)]
    assert "".join(s.text for s in m2.segments) == text2


def test_many_not_a_call_blocks_in_one_delta(backend: Any) -> None:
    unit = '<tool_call>{"x": 1}</tool_call>'
    text = unit * 10_000
    p = backend.StreamParser()
    d = p.feed(text)
    p.finish()
    assert d.content == text and d.tool_calls == []
    assert p.message.content == text and p.message.tool_calls == []
    # interleaved with real calls: indexes keep counting only real calls
    mixed = (unit + '<tool_call>{"name": "f"}</tool_call>') * 2_000
    m = backend.parse(mixed, id_factory=IDS)
    assert m.content == unit * 2_000
    assert [c.index for c in m.tool_calls] == list(range(2_000))
    assert all(c.arguments == "{}" and c.error is None for c in m.tool_calls)


def test_unclosed_not_a_call_chain_at_end(backend: Any) -> None:
    # every block is unterminated and nameless: at finish each is re-parsed in turn
    text = '<tool_call>{"a": "' * 300
    m = backend.parse(text)
    assert m.content == text and m.tool_calls == []


# ----------------------------------------------------------------------------------------- misuse
@pytest.mark.parametrize(
    ("kwargs", "exc", "pattern"),
    [
        ({"tools": "get_weather"}, TypeError, "tools"),
        ({"tools": {"name": "f"}}, TypeError, "tools"),
        ({"tools": 3}, TypeError, "tools"),
        ({"max_json_depth": 0}, ValueError, "max_json_depth"),
        ({"max_json_depth": -5}, ValueError, "max_json_depth"),
        ({"max_json_depth": 10**9}, ValueError, "max_json_depth"),
        ({"max_json_depth": "3"}, TypeError, "max_json_depth"),
        ({"max_json_depth": 2.0}, TypeError, "max_json_depth"),
        ({"max_json_depth": True}, TypeError, "max_json_depth"),
        ({"max_json_depth": None}, TypeError, "max_json_depth"),
        ({"id_factory": 5}, TypeError, "id_factory"),
        ({"id_factory": "call_"}, TypeError, "id_factory"),
    ],
)
def test_bad_tool_options(backend: Any, kwargs: dict[str, Any], exc: type, pattern: str) -> None:
    with pytest.raises(exc, match=pattern):
        backend.StreamParser(**kwargs)
    with pytest.raises(exc, match=pattern):
        backend.parse("x", **kwargs)


@pytest.mark.parametrize("bad_id", [5, None, b"call_0"])
def test_id_factory_returning_non_str_raises_type_error(backend: Any, bad_id: Any) -> None:
    p = backend.StreamParser(id_factory=lambda i: bad_id)
    with pytest.raises(TypeError, match="id_factory"):
        p.feed('<tool_call>{"name": "f"}</tool_call>')


def test_id_factory_exception_propagates(backend: Any) -> None:
    def factory(i: int) -> str:
        raise KeyError("boom")

    p = backend.StreamParser(id_factory=factory)
    with pytest.raises(KeyError, match="boom"):
        p.feed('<tool_call>{"name": "f"}</tool_call>')


def test_toolset_is_exported() -> None:
    assert hs.ToolSet is hs.reference.ToolSet
