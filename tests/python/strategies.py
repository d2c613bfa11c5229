"""Hypothesis strategies for Hermes-style output streams and their chunkings."""

from __future__ import annotations

from hypothesis import strategies as st

# Fragments chosen so that tags, partial tags, look-alikes and multi-byte text collide often.
FRAGMENTS = [
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<", "</", "<th", "</th", "<think",
    "</think", "think>", ">", "<<", "a", "b", " ", "\n", "\t", "é", "中", "😀", "{", "}", '"',
    "\\", "<thinking>", "</thinker>", "x<", "\r\n",
]

fragments = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=4), max_size=40)
texts = fragments.map("".join)

# Raw model bytes: valid text mixed with ill-formed UTF-8.
BAD_BYTES = [b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f", b"\xed\xa0\x80", b"\x80", b"\xc0\xaf"]
byte_streams = st.lists(
    st.sampled_from(FRAGMENTS).map(str.encode) | st.sampled_from(BAD_BYTES) | st.binary(max_size=3),
    max_size=30,
).map(b"".join)


@st.composite
def chunked(draw: st.DrawFn, data_strategy: st.SearchStrategy) -> tuple:
    """(data, chunks): ``data`` split at random points (empty chunks allowed)."""
    data = draw(data_strategy)
    cuts = draw(st.lists(st.integers(0, max(len(data), 0)), max_size=12))
    points = sorted(cuts)
    chunks, prev = [], 0
    for c in points + [len(data)]:
        chunks.append(data[prev:c])
        prev = c
    return data, chunks


options = st.fixed_dictionaries(
    {
        "reasoning_budget": st.none() | st.integers(0, 12),
        "start_in_reasoning": st.booleans(),
    }
)


# ----------------------------------------------------------------------------- tool calls
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-10**6, 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8)
    | st.sampled_from(["</tool_call>", "<tool_call>", "}", "{", '\\"', "\\\\", "</think>", "é中😀"])
)
json_values = st.recursive(
    _json_scalars,
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)
_ws = st.sampled_from(["", " ", "\n", "  ", "\t", "\r\n"])


@st.composite
def json_text(draw: st.DrawFn, value: object) -> str:
    """``value`` serialised with a random whitespace style and ASCII/unicode escaping."""
    import json

    indent = draw(st.sampled_from([None, None, 1, 2]))
    ascii_only = draw(st.booleans())
    seps = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,", " : ")]))
    return json.dumps(value, indent=indent, ensure_ascii=ascii_only, separators=seps)


@st.composite
def call_bodies(draw: st.DrawFn) -> str:
    """A ``<tool_call>`` body: usually valid, sometimes broken before or after the name."""
    import json

    name = draw(st.sampled_from(["get_weather", "search", "f", "名前", 'a"b']))
    args = draw(st.dictionaries(st.text(max_size=6), json_values, max_size=3))
    args_text = draw(json_text(args))
    style = draw(st.sampled_from(["object", "object", "string", "missing", "first"]))
    name_text = json.dumps(name, ensure_ascii=draw(st.booleans()))
    ws = [draw(_ws) for _ in range(6)]
    if style == "string":
        args_text = json.dumps(args_text, ensure_ascii=draw(st.booleans()))
    members = [f'"name"{ws[0]}:{ws[1]}{name_text}']
    if style != "missing":
        members.append(f'"arguments"{ws[2]}:{ws[3]}{args_text}')
    if style == "first":
        members.reverse()
    if draw(st.booleans()):
        members.insert(draw(st.integers(0, len(members))), '"other": [1, {"x": null}]')
    body = f"{ws[4]}{{{', '.join(members)}}}{ws[5]}"
    damage = draw(st.sampled_from(["none"] * 6 + ["truncate", "garbage", "drop_brace"]))
    if damage == "truncate":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "garbage":
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from(["x", "<", "}", "\x00", "]", '"', "\\q"])) + body[at:]
    elif damage == "drop_brace":
        body = body.replace("}", "", 1)
    return body


@st.composite
def tool_streams(draw: st.DrawFn) -> str:
    """Hermes-style output: optional reasoning, prose, and several calls (some unterminated)."""
    parts = []
    if draw(st.booleans()):
        parts.append("<think>" + draw(st.sampled_from(["plan", "", "use <tool_call> maybe"])) + "</think>")
    for _ in range(draw(st.integers(0, 3))):
        parts.append(draw(st.sampled_from(["", "\n", "Sure. ", "text <tool_ here"])))
        close = draw(st.sampled_from(["</tool_call>", "</tool_call>", "\n</tool_call>", "", "</tool_"]))
        parts.append("<tool_call>" + draw(call_bodies()) + close)
    parts.append(draw(st.sampled_from(["", "\n", " done", "<tool_call>"])))
    return "".join(parts)
