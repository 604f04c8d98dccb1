"""Hostile request bodies built from a JSON schema (a request model's).

``hostile_bodies(schema)`` draws a body that fits the schema, then replaces one
leaf (a string, integer, number, moment, ...) with an edge value for its kind:
integers at and beyond their bounds and PostgreSQL's (2**31, 2**63, a
5,000-digit literal), moments in year 1 and 9999 with offsets and at the
window's ends (``formatMinimum``/``formatMaximum`` where the schema states
them), strings with NUL, CR/LF, a lone surrogate, invalid UTF-8 and 10,000
characters. Bodies are raw bytes, so what no JSON encoder would write (invalid
UTF-8, huge numbers) reaches the server too. Long runs are written
``<<count text>>`` and grown by ``expand`` just before sending, so a failing
example stays readable.
"""

from __future__ import annotations

import json
import re
import string
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

Path = tuple[str | int, ...]
MARK = "\u2603hostile\u2603"
#: Id properties that must name something real to get past the lookups: drawn as
#: ``@name@`` and replaced by the test with the target's id (see ``fill``).
KNOWN_IDS = ("occurrence_id", "session_id")

HOSTILE_STRINGS: tuple[bytes, ...] = (
    b'""',
    b'"a\\u0000b"',
    b'"\\u0000"',
    b'"a\\r\\nBcc: x@example.org"',
    b'"a\\nb"',
    b'"tab\\there"',
    b'"\\u2028"',
    b'"\\u001b[31m"',
    b'"\\ud800"',
    b'"\\udfff\\ud800"',
    b'"\xff\xfe"',
    b'"caf\xe9"',
    b'"\xed\xa0\x80"',
    b'"<<10000 x>>"',
    b'"<<10000 \xc3\xa9>>"',
    b'"../../../../etc/passwd"',
    b'" "',
)
_NUMBERS = (0, -1, 1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32, 2**63, -(2**63) - 1)
HOSTILE_INTEGERS: tuple[bytes, ...] = (
    *(str(n).encode() for n in _NUMBERS),
    b"1<<5000 0>>",
    b"1.5",
    b"1e400",
    b"-0",
    b"true",
    b'"12"',
)
HOSTILE_MOMENTS: tuple[str, ...] = (
    "0001-01-01T00:00:00+01:00",
    "0001-01-01T00:00:00-23:59",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59.999999-01:00",
    "9999-12-31T23:59:59+14:00",
    "9999-12-31T23:59:59",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:00:00Z",
    "1970-01-01T00:30:00+01:00",
    "2200-12-31T23:59:59Z",
    "2201-01-01T00:00:00Z",
    "2200-12-31T23:00:00-02:00",
    "2026-02-30T09:00:00Z",
    "2026-06-01T09:00:00+25:00",
)
DEADLY: frozenset[bytes] = frozenset(
    {
        b'"a\\u0000b"',
        b'"a\\r\\nBcc: x@example.org"',
        b'"\\ud800"',
        b'"\xff\xfe"',
        b'"<<10000 x>>"',
        b"2147483648",
        b"9223372036854775808",
        b"1<<5000 0>>",
        b'"0001-01-01T00:00:00+01:00"',
        b'"9999-12-31T23:59:59.999999-01:00"',
        b'"0001-01-01T00:00:00"',
        b'"9999-12-31"',
        b"<<300 [>><<300 ]>>",
    }
)
HOSTILE_DATES: tuple[str, ...] = ("0001-01-01", "9999-12-31", "1969-12-31", "2201-01-01")
HOSTILE_OTHER: tuple[bytes, ...] = (
    b"null",
    b"{}",
    b"[]",
    b"<<300 [>><<300 ]>>",
    b'<<300 {"a":>>1<<300 }>>',
    b"NaN",
)


@dataclass(frozen=True)
class Leaf:
    path: Path
    schema: dict[str, Any]


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _branches(schema: dict[str, Any], defs: dict[str, Any]) -> list[dict[str, Any]]:
    """The non-null branches of an anyOf, else the schema itself (resolved). A
    decimal (number or numeric string) counts as its number branch."""
    schema = _resolve(schema, defs)
    if "anyOf" not in schema:
        return [schema]
    branches = [_resolve(b, defs) for b in schema["anyOf"] if b.get("type") != "null"]
    if {b.get("type") for b in branches} == {"number", "string"}:
        return [b for b in branches if b.get("type") == "number"]
    return branches


def leaves(schema: dict[str, Any], defs: dict[str, Any], path: Path = ()) -> Iterator[Leaf]:
    """Every scalar position of the schema (arrays: their first item)."""
    for branch in _branches(schema, defs):
        kind = branch.get("type")
        if kind == "object" and "properties" in branch:
            for name, sub in branch["properties"].items():
                yield from leaves(sub, defs, (*path, name))
        elif kind == "array" and "items" in branch:
            yield from leaves(branch["items"], defs, (*path, 0))
        else:
            yield Leaf(path, branch)


def leaf_count(schema: dict[str, Any]) -> int:
    return len(list(leaves(schema, schema.get("$defs", {}))))


# Values that fit ----------------------------------------------------------------

#: Draws a value for (schema, property name); the random and the minimal flavour.
Fill = Callable[[dict[str, Any], str], Any]


def _naive(branch: dict[str, Any]) -> bool:
    """A local wall-clock time: its stated window has no offset."""
    return "formatMinimum" in branch and not str(branch["formatMinimum"]).endswith("Z")


def _scalar_choices(branch: dict[str, Any], name: str) -> list[Any] | None:
    """The few values a scalar may take here, or None for free text."""
    kind, fmt = branch.get("type"), branch.get("format")
    if "enum" in branch:
        return list(branch["enum"])
    if "const" in branch:
        return [branch["const"]]
    if kind == "boolean":
        return [True, False]
    if kind == "number":
        return [0, 1, 12.5]
    if kind == "integer":
        low = branch.get("minimum", 0)
        return sorted({low, min(branch.get("maximum", low + 10), low + 10)})
    if kind in ("object", "array"):
        return None
    if kind != "string":
        return [None]
    if fmt == "uuid":
        return [str(uuid.UUID(int=n)) for n in (1, 2)]
    if fmt == "email":
        return ["ada@example.org", "b.c@example.com"]
    if fmt == "uri":
        return ["https://hooks.example.org/rollcall", "https://example.com/in"]
    if fmt == "date-time":
        texts = ["2027-05-03T09:00:00+00:00", "2028-11-30T18:30:00+01:00"]
        return [text[:19] for text in texts] if _naive(branch) else texts
    if fmt == "date":
        return ["2027-05-03", "2028-11-30"]
    if fmt == "time":
        return ["09:00", "18:30:00"]
    if name == "timezone":
        return ["UTC", "Europe/Amsterdam"]
    return None


def _fill_object(branch: dict[str, Any], chosen: set[str], fill: Fill) -> dict[str, Any]:
    props: dict[str, Any] = branch.get("properties", {})
    required = set(branch.get("required", ()))
    known = [name for name in KNOWN_IDS if name in props]
    if known:
        # Name one real date or session, so the request gets past its lookups.
        picked = [name for name in known if name in chosen] or known[:1]
        chosen = (chosen - set(KNOWN_IDS)) | {picked[0]}
    return {
        name: f"@{name}@" if name in KNOWN_IDS else fill(props[name], name)
        for name in props
        if name in required or name in chosen
    }


def minimal_value(schema: dict[str, Any], defs: dict[str, Any], name: str = "") -> Any:
    """The plainest value the schema allows: required properties only."""
    branch = _branches(schema, defs)[0]
    choices = _scalar_choices(branch, name)
    if choices is not None:
        return choices[0]
    kind = branch.get("type")
    if kind == "object":
        return _fill_object(branch, set(), lambda sub, sub_name: minimal_value(sub, defs, sub_name))
    if kind == "array":
        items = branch.get("items", {})
        return [minimal_value(items, defs) for _ in range(branch.get("minItems", 0))]
    return "A" * max(branch.get("minLength", 1), 1)


@st.composite
def valid_value(
    draw: st.DrawFn, schema: dict[str, Any], defs: dict[str, Any], name: str = ""
) -> Any:
    """A value the schema allows, kept plain (few optional properties), so a
    single hostile leaf is what decides the outcome."""
    branch = draw(st.sampled_from(_branches(schema, defs)))
    choices = _scalar_choices(branch, name)
    if choices is not None:
        return draw(st.sampled_from(choices))

    def fill(sub: dict[str, Any], sub_name: str) -> Any:
        return draw(valid_value(sub, defs, sub_name))

    kind = branch.get("type")
    if kind == "object":
        optional = sorted(set(branch.get("properties", {})) - set(branch.get("required", ())))
        chosen = set(draw(st.lists(st.sampled_from(optional), max_size=2))) if optional else set()
        return _fill_object(branch, chosen, fill)
    if kind == "array":
        low = branch.get("minItems", 0)
        items = branch.get("items", {})
        return draw(st.lists(valid_value(items, defs), min_size=low, max_size=max(low, 2)))
    low = max(branch.get("minLength", 1), 1)
    high = max(min(branch.get("maxLength", 20), 20), low)
    return draw(st.text(string.ascii_letters, min_size=low, max_size=high))


# Values that do not -------------------------------------------------------------


def _window_edges(low: str, high: str, fmt: str) -> list[str]:
    """The window's first and last moments, and one step beyond each."""
    if fmt == "date":
        first, last = date.fromisoformat(low), date.fromisoformat(high)
        step = timedelta(days=1)
        return [d.isoformat() for d in (first, first - step, last, last + step)]
    first_moment = datetime.fromisoformat(low.replace("Z", "+00:00"))
    last_moment = datetime.fromisoformat(high.replace("Z", "+00:00"))
    tick = timedelta(microseconds=1)
    return [
        m.isoformat() for m in (first_moment, first_moment - tick, last_moment, last_moment + tick)
    ]


def boundaries(leaf: Leaf) -> list[bytes]:
    """The edges the schema itself states: each bound, and one step past it."""
    schema = leaf.schema
    found: list[bytes] = []
    for key, step in (("minimum", -1), ("maximum", 1)):
        if key in schema:
            found += [str(schema[key]).encode(), str(schema[key] + step).encode()]
    if "maxLength" in schema:
        n = schema["maxLength"]
        found += [f'"<<{n} y>>"'.encode(), f'"<<{n + 1} y>>"'.encode()]
    if "formatMinimum" in schema:
        texts = _window_edges(schema["formatMinimum"], schema["formatMaximum"], schema["format"])
        found += [json.dumps(text).encode() for text in texts]
    return found


def edge_values(leaf: Leaf) -> list[bytes]:
    """Every hostile raw JSON value for one leaf, by its kind and its schema."""
    schema = leaf.schema
    kind, fmt = schema.get("type"), schema.get("format")
    found: list[bytes] = [*HOSTILE_OTHER, *boundaries(leaf)]
    if kind == "integer":
        found += HOSTILE_INTEGERS
    elif kind == "number":
        found += [*HOSTILE_INTEGERS, b"1e-400", b"0.<<5000 0>>1"]
    elif kind == "string" and fmt in ("date-time", "date"):
        texts = HOSTILE_MOMENTS if fmt == "date-time" else HOSTILE_DATES
        found += [json.dumps(text).encode() for text in texts] + list(HOSTILE_STRINGS)
    elif kind == "string":
        found += list(HOSTILE_STRINGS)
        found += [json.dumps(value).encode() for value in schema.get("enum", ())]
    else:
        found += [*HOSTILE_STRINGS[:4], *HOSTILE_INTEGERS[:4]]
    return found


def sweep_values(leaf: Leaf) -> list[bytes]:
    """What every leaf is pushed to in the deterministic sweep: the classes that
    broke the API before, and the schema's own bounds."""
    return [raw for raw in edge_values(leaf) if raw in DEADLY] + boundaries(leaf)


def place(body: Any, path: Path, schema: dict[str, Any], defs: dict[str, Any], fill: Fill) -> Any:
    """``body`` with the marker at ``path``, creating what the path passes through."""
    if not path:
        return MARK
    head, rest = path[0], path[1:]
    wanted = "array" if isinstance(head, int) else "object"
    branch = next((b for b in _branches(schema, defs) if b.get("type") == wanted), {})
    if isinstance(head, int):
        sub = branch.get("items", {})
        items = list(body) if isinstance(body, list) and body else [fill(sub, "")]
        items[0] = place(items[0], rest, sub, defs, fill)
        return items
    current = dict(body) if isinstance(body, dict) else {}
    sub = branch.get("properties", {}).get(head, {})
    inner = current.get(head)
    if inner is None and rest:
        inner = fill(sub, str(head))
    current[head] = place(inner, rest, sub, defs, fill)
    return current


def render(body: Any, raw: bytes | None) -> bytes:
    text = json.dumps(body).encode()
    return text if raw is None else text.replace(json.dumps(MARK).encode(), raw)


@st.composite
def hostile_bodies(draw: st.DrawFn, schema: dict[str, Any]) -> bytes:
    """A valid body with (mostly) one leaf replaced by a hostile raw value."""
    defs = schema.get("$defs", {})
    body = draw(valid_value(schema, defs))
    targets = list(leaves(schema, defs))
    if not targets or not draw(st.integers(0, 9)):
        return render(body, None)
    leaf = draw(st.sampled_from(targets))
    values = edge_values(leaf)
    deadly = [raw for raw in values if raw in DEADLY]
    # Half the draws from what broke the API before (NUL, 2**31, year 1 with an
    # offset, ...), half from everything.
    raw = draw(st.one_of(st.sampled_from(deadly or values), st.sampled_from(values)))

    def fill(sub: dict[str, Any], name: str) -> Any:
        return draw(valid_value(sub, defs, name))

    return render(place(body, leaf.path, schema, defs, fill), raw)


def sweep_bodies(schema: dict[str, Any]) -> list[bytes]:
    """Deterministic: the minimal body with each leaf, in turn, set to each of its
    sweep values; and the minimal body itself."""
    defs = schema.get("$defs", {})
    base = minimal_value(schema, defs)

    def fill(sub: dict[str, Any], name: str) -> Any:
        return minimal_value(sub, defs, name)

    bodies = [render(base, None)]
    for leaf in leaves(schema, defs):
        placed = place(base, leaf.path, schema, defs, fill)
        bodies += [render(placed, raw) for raw in dict.fromkeys(sweep_values(leaf))]
    return bodies


_RUN = re.compile(rb"<<(\d+) (.+?)>>", re.DOTALL)


def expand(raw: bytes, known: dict[str, str] | None = None) -> bytes:
    """``raw`` with every ``<<count text>>`` written out and every ``@name@`` of
    KNOWN_IDS replaced by ``known[name]``."""
    raw = _RUN.sub(lambda found: found.group(2) * int(found.group(1)), raw)
    for name, value in (known or {}).items():
        raw = raw.replace(f"@{name}@".encode(), value.encode())
    return raw
