"""Schemathesis against a live uvicorn on PostgreSQL, one test per operation.

Real HTTP over one keep-alive connection per operation: every answer must be
no 5xx, every 4xx the one JSON error body, and the connection must survive
every answer (the same client port throughout), so an error that makes the
server drop the connection fails as surely as a 500. Positive and negative
cases, half of them with path parameters naming real things so they get past
the lookups. The in-process run on SQLite stays in tests/component/test_fuzz_openapi.py.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from rollcall.domain.clock import utcnow
from rollcall.domain.jobs.engine import apply_job
from rollcall.intake.app import create_app
from tests.support.hostile_stack import assert_clean_answer, settings_for_schema, target_event
from tests.support.services import LiveServer, SmtpSink, truncate_all
from tests.support.stack import Stack, bind_broker, configure

SCHEMA = schemathesis.openapi.from_dict(create_app(settings_for_schema()).openapi())
OPERATIONS = {
    f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SCHEMA.get_all_operations())
}
#: Per operation; about 35 operations x 40 requests stay within CI time.
EXAMPLES_PER_OPERATION = 60
KEEP_ALIVE_SECONDS = 120
#: Operations an end-user token calls (the rest take an API key).
END_USER = {"GET /v1/calendar", "POST /v1/calendar/bookmarks/{entry}", "GET /v1/calendar.ics"}

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def live(postgres_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One live server for the module: uvicorn over PostgreSQL, the StubBroker;
    the jobs it accepts are applied by the worker's code in the test."""
    sink = SmtpSink().start()
    truncate_all(postgres_database)
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = configure(
            monkeypatch,
            database_url=postgres_database,
            redis_url="stub://",
            smtp_url=sink.url,
            var_dir=str(tmp_path_factory.mktemp("var")),
        )
        broker = bind_broker(settings)
        server = LiveServer(create_app(settings))
        # Idle gaps (an accepted job applied between two requests) must not close
        # the connection: only an answer may, and none should.
        server.server.config.timeout_keep_alive = KEEP_ALIVE_SECONDS
        with server, httpx.Client(base_url=server.url, timeout=30) as setup:
            stack = Stack(settings=settings, broker=broker, client=setup, sink=sink)
            stack.extra |= _seed(stack)
            stack.extra["url"] = server.url
            stack.extra["events"] = itertools.count()
            yield stack
        broker.close()
    sink.stop()


def _seed(stack: Stack) -> dict[str, Any]:
    """An operator's key, an enrolled attendee and their end-user token."""
    key = stack.key(operator=True)
    auth = stack.auth(key)
    names = target_event(stack, key, "seed")
    enrolled = stack.client.post(
        "/v1/events/seed/enrollments",
        json={
            "attendee": {"ref": "ada", "email": "ada@example.org"},
            "occurrence_id": names["occurrence_id"],
        },
        headers=auth,
    ).json()
    apply_job(stack.sessions, uuid.UUID(enrolled["id"]), now=utcnow)
    token = stack.client.post("/v1/attendees/ada/tokens", headers=auth).json()["token"]
    listed = stack.client.get("/v1/events/seed/enrollments", headers=auth).json()
    known = names | {
        "enrollment_id": listed["items"][0]["id"],
        "job_id": enrolled["id"],
        "entry": names["occurrence_id"],
    }
    return {"key": key, "token": token, "known": known}


#: What h11 lets a client send: a header name token, a value without controls
#: and without whitespace at either end.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"([\x21-\x7e\x80-\xff]([\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?")


def _sendable(headers: dict[str, str]) -> bool:
    return all(
        _HEADER_NAME.fullmatch(name) and _HEADER_VALUE.fullmatch(str(value))
        for name, value in headers.items()
    )


def _request(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The requests-style arguments schemathesis serialises a case to, for httpx."""
    out: dict[str, Any] = {
        "method": kwargs["method"],
        "url": kwargs["url"],
        "headers": dict(kwargs.get("headers") or {}),
        "params": kwargs.get("params") or None,
    }
    if "json" in kwargs:
        out["content"] = json.dumps(kwargs["json"]).encode()
        out["headers"] = {"Content-Type": "application/json"} | out["headers"]
    elif isinstance(kwargs.get("data"), bytes | str):
        out["content"] = kwargs["data"]
    elif kwargs.get("data") or kwargs.get("files"):
        out["data"] = kwargs.get("data")
        out["files"] = [(name, _form_part(part)) for name, part in kwargs.get("files") or ()]
    return out


def _form_part(part: Any) -> Any:
    """A multipart part as httpx takes it: requests also sends numbers and lists,
    which schemathesis leaves in place for it; they go as their JSON text."""
    if isinstance(part, tuple) and not isinstance(part[1], bytes | str):
        return (part[0], json.dumps(part[1]), *part[2:])
    return part


def _client_port(response: httpx.Response) -> int:
    stream = response.extensions["network_stream"]
    return int(stream.get_extra_info("client_addr")[1])


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_operation_survives_fuzzing_over_one_connection(live: Stack, label: str) -> None:
    operation = OPERATIONS[label]
    # Its own event: a cancel or an unpublish fuzzed here leaves the others alone.
    number = next(live.extra["events"])
    known = live.extra["known"] | target_event(live, live.extra["key"], f"op{number}")
    known = {
        name: value
        for name, value in known.items()
        if name in {p.name for p in operation.path_parameters}
    }
    # Mostly requests that name real things (they reach the database), in both
    # modes; some with generated path parameters too.
    positive, negative = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
    reaching = operation.as_strategy(generation_mode=positive, path_parameters=known)
    cases = st.one_of(
        reaching,
        reaching,
        operation.as_strategy(generation_mode=negative, path_parameters=known),
        operation.as_strategy(generation_mode=positive),
        operation.as_strategy(generation_mode=negative),
    )
    secret = live.extra["token" if label in END_USER else "key"]
    ports: set[int] = set()
    statuses: list[int] = []

    keep = httpx.Limits(max_connections=1, keepalive_expiry=KEEP_ALIVE_SECONDS)
    with httpx.Client(base_url=live.extra["url"], timeout=30, limits=keep) as client:

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            kwargs = case.as_transport_kwargs(base_url=live.extra["url"])
            request = _request(kwargs)
            # Signed in: the fuzzing is of what a caller sends, past authentication.
            request["headers"] = request["headers"] | {"Authorization": f"Bearer {secret}"}
            if label == "GET /v1/calendar.ics":
                request["params"] = {"token": secret} | (request["params"] or {})
            if not _sendable(request["headers"]):
                reject()  # no HTTP client could send it (a header with a line break, ...)
            try:
                built = client.build_request(**request)
                built.read()  # a multipart body is encoded here, not halfway through sending
            except (TypeError, ValueError):
                reject()  # a form value httpx cannot encode (schemathesis made it for requests)
            response = client.send(built)
            statuses.append(response.status_code)
            assert_clean_answer(response, (label, request))
            if response.status_code == 202 and "json" in response.headers.get("content-type", ""):
                apply_job(live.sessions, uuid.UUID(response.json()["id"]), now=utcnow)
            ports.add(_client_port(response))
            # The server kept the connection open after this answer, whatever it was.
            assert len(ports) == 1, (label, response.status_code, response.text[:300])

        check()

    assert statuses, label
