"""A property-based test per request model, on PostgreSQL (where NUL and 2**31 fail).

Strategies are built from each model's JSON schema in the OpenAPI document
(tests/support/hostile.py): a body that fits the schema with one leaf pushed to
its edge, integers past 2**31, moments in year 1 and 9999 with offsets and at
the window's ends, strings with NUL, CR/LF, a lone surrogate, invalid UTF-8
(raw bytes) and 10,000 characters. Every answer: no 5xx, every 4xx in the
documented body. The CSV bulk body gets the same treatment cell by cell.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rollcall.intake.app import create_app
from rollcall.intake.schemas import AttendeeIn
from tests.support.hostile import (
    HOSTILE_STRINGS,
    expand,
    hostile_bodies,
    leaf_count,
    render,
    sweep_bodies,
    valid_value,
)
from tests.support.hostile_stack import (
    assert_accepted_job_applies,
    assert_clean_answer,
    pg_api_stack,
    settings_for_schema,
    target_event,
)
from tests.support.services import SmtpSink
from tests.support.stack import Stack

SPEC = create_app(settings_for_schema()).openapi()
COMPONENTS: dict[str, Any] = SPEC["components"]["schemas"]


def _model_of(schema: dict[str, Any]) -> str:
    """The model a request body schema names (optional bodies are anyOf [ref, null])."""
    for candidate in [schema, *schema.get("anyOf", ())]:
        if "$ref" in candidate:
            return str(candidate["$ref"].rsplit("/", 1)[-1])
        if "title" in candidate and candidate.get("type") == "object":
            return str(candidate["title"])
    raise AssertionError(f"no model in {schema}")


def _request_models() -> dict[str, tuple[dict[str, Any], list[tuple[str, str]]]]:
    """{model name: (its JSON schema with $defs, [(method, path), ...])} for every
    operation of the API with a JSON body."""
    found: dict[str, tuple[dict[str, Any], list[tuple[str, str]]]] = {}
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            name = _model_of(schema)
            resolved = COMPONENTS.get(name, schema)
            defs = {**COMPONENTS, **resolved.get("$defs", {})}
            found.setdefault(name, (resolved | {"$defs": defs}, []))[1].append(
                (method.upper(), path)
            )
    # A bulk row is an AttendeeIn; the schema leaves rows open (a bad row is a
    # row error, not a refusal), so the strategy is told what a row should be.
    # (Its schema comes from the model: the single enrollment's body has its own
    # attendee model now, so AttendeeIn need not be among the components.)
    bulk = found["BulkEnrollmentRequest"][0]
    bulk["$defs"] = {"AttendeeIn": AttendeeIn.model_json_schema()} | bulk["$defs"]
    bulk["properties"]["attendees"] = {
        "type": "array",
        "minItems": 1,
        "items": {"$ref": "#/components/schemas/AttendeeIn"},
    }
    return found


MODELS = _request_models()
pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def test_every_request_model_is_fuzzed() -> None:
    # Given the API's operations with a JSON body, the parametrisation below
    # covers each model they take: a new model gets its property test by itself.
    assert set(MODELS) >= {
        "EventCreate",
        "EventPatch",
        "CopyIn",
        "CancelIn",
        "SessionIn",
        "SessionPatch",
        "TrainersIn",
        "EnrollmentRequest",
        "BulkEnrollmentRequest",
        "ReminderRequest",
        "OfferIn",
        "OfferPatch",
    }


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[Stack]:
    with pg_api_stack(monkeypatch, postgres_url, smtp_sink, tmp_path) as stack:
        stack.extra["refs"] = itertools.count()
        yield stack


def _names(stack: Stack) -> dict[str, str]:
    """The target's path parameters. A new target, in a new organisation, once a
    request was accepted: an accepted cancel or patch never turns later bodies
    away before they reach the database, and each attendee ref is new."""
    if "names" not in stack.extra:
        number = next(stack.extra["refs"])
        stack.extra["key"] = stack.key(org=f"org-{number}")
        stack.extra["names"] = target_event(stack, stack.extra["key"], f"t{number}")
    names: dict[str, str] = stack.extra["names"]
    return names


def _answered(stack: Stack, response: httpx.Response, what: object) -> None:
    stack.extra.setdefault("statuses", []).append(response.status_code)
    assert_clean_answer(response, what)
    if response.status_code < 400:
        stack.extra.pop("names", None)
    if response.status_code == 202:
        # Accepted is a promise: the worker's own code must be able to apply it.
        assert_accepted_job_applies(stack, response.json()["id"], what)


def _send(stack: Stack, method: str, path: str, body: bytes, content_type: str) -> None:
    names = _names(stack)
    key = stack.extra["key"]
    url = path.format(**names)
    response = stack.client.request(
        method,
        url,
        content=expand(body, names),
        headers=stack.auth(key) | {"Content-Type": content_type},
    )
    _answered(stack, response, (method, url, body))


def _examples(schema: dict[str, Any]) -> int:
    """Random examples on top of the sweep, within CI time."""
    return min(20 + leaf_count(schema), 60)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_request_model_survives_hostile_bodies(api: Stack, model: str) -> None:
    schema, routes = MODELS[model]

    @settings(
        max_examples=_examples(schema),
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(route=st.sampled_from(routes), body=hostile_bodies(schema))
    def check(route: tuple[str, str], body: bytes) -> None:
        _send(api, *route, body, "application/json")

    # First the sweep: every leaf pushed to every class that broke the API before
    # and to its schema's bounds, one at a time; then random bodies.
    for body in sweep_bodies(schema):
        check = example(route=routes[0], body=body)(check)
    check()

    # Then plain valid bodies, the same ones every run (derandomized): whether
    # the random ones above included a valid one is chance (for
    # EnrollmentRequest some runs drew none, and its minimal body names an
    # attendee that does not exist), and the check below must not hinge on it.
    @settings(
        max_examples=10,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=valid_value(schema, schema.get("$defs", {})).map(lambda body: render(body, None)))
    def plain(body: bytes) -> None:
        _send(api, *routes[0], body, "application/json")

    plain()
    # The bodies got past validation too, or the database was never reached.
    statuses = api.extra["statuses"]
    assert any(status < 400 for status in statuses), statuses
    assert any(status == 422 for status in statuses), statuses


def _csv_cell() -> st.SearchStrategy[bytes]:
    plain = st.text("abcdefghij", min_size=1, max_size=8).map(str.encode)
    hostile = st.sampled_from(
        [
            b"a\x00b",
            b'"a\r\nb"',
            b"a\rb",
            b'"unterminated',
            b'a"b',
            b"\xff\xfe",
            b"caf\xe9",
            b"<<140000 x>>",
            b'"<<140000 y>>"',
            b"\xed\xa0\x80",
            b"Europe/<<10000 A>>",
            b"1<<5000 0>>",
            *[raw.strip(b'"') for raw in HOSTILE_STRINGS if b"\\" not in raw],
        ]
    )
    return st.one_of(plain, hostile)


@st.composite
def _csv_bodies(draw: st.DrawFn) -> bytes:
    header = draw(
        st.sampled_from(
            [b"ref,email,name,timezone,locale", b"ref,email", b"\xef\xbb\xbfref,email,name"]
        )
    )
    width = header.count(b",") + 1
    lines = [header]
    for number in range(draw(st.integers(1, 4))):
        cells = [f"r{number}".encode(), f"r{number}@example.org".encode()]
        cells += [b"" for _ in range(width - 2)]
        spot = draw(st.integers(0, width - 1))
        cells[spot] = draw(_csv_cell())
        lines.append(b",".join(cells))
    return b"\r\n".join(lines) + draw(st.sampled_from([b"", b"\r\n", b"\n\n"]))


def test_bulk_csv_survives_hostile_cells(api: Stack) -> None:
    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(body=_csv_bodies(), kind=st.sampled_from(["text/csv", "multipart"]))
    def check(body: bytes, kind: str) -> None:
        url = f"/v1/events/{_names(api)['event_id']}/enrollments/bulk?atomic=false"
        key = api.extra["key"]
        if kind == "text/csv":
            headers = api.auth(key) | {"Content-Type": "text/csv"}
            response = api.client.post(url, content=expand(body), headers=headers)
        else:
            files = {"file": ("roster.csv", expand(body), "text/csv")}
            response = api.client.post(url, files=files, headers=api.auth(key))
        _answered(api, response, (kind, body))

    check()
    statuses = api.extra["statuses"]
    assert 202 in statuses and 422 in statuses, statuses
