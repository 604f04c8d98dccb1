"""What the hostile-input tests share: the API over PostgreSQL, a fresh target
event per request, and the check every answer must pass."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from rollcall.config.settings import Settings
from rollcall.domain.access.keys import create_api_key
from rollcall.domain.clock import utcnow
from rollcall.domain.errors import DomainError
from rollcall.domain.jobs.engine import apply_job
from rollcall.intake.app import create_app
from rollcall.models import Job, Organisation
from rollcall.models.jobs import FINAL_JOB_STATUSES
from tests.support.services import SmtpSink
from tests.support.stack import Stack, bind_broker, configure

#: A published event with two dates, a session and a waiting list: every path
#: parameter of the API can name something real in it.
TARGET_EVENT: dict[str, Any] = {
    "name": "Hostile target",
    "type": "TRAINING",
    "timezone": "Europe/Amsterdam",
    "max_subscriptions": 5,
    "waiting_list": True,
    "booked_per_date": True,
    "dates": [
        {"starts_at": "2031-03-01T09:00:00+01:00", "ends_at": "2031-03-01T12:00:00+01:00"},
        {"starts_at": "2031-03-08T09:00:00+01:00", "ends_at": "2031-03-08T12:00:00+01:00"},
    ],
}


@contextmanager
def pg_api_stack(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str, smtp_sink: SmtpSink, tmp_path: Path
) -> Iterator[Stack]:
    """The API in process (ASGI) on PostgreSQL, with the StubBroker and no worker:
    what the edge accepts is what reaches the database."""
    settings = configure(
        monkeypatch,
        database_url=postgres_url,
        redis_url="stub://",
        smtp_url=smtp_sink.url,
        var_dir=str(tmp_path / "var"),
    )
    broker = bind_broker(settings)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Stack(settings=settings, broker=broker, client=client, sink=smtp_sink)
    broker.close()


def target_event(stack: Stack, key: str, ref: str) -> dict[str, str]:
    """Create and publish a target event in an offer; its path parameters by name."""
    auth = stack.auth(key)
    offer = stack.client.post("/v1/offers", json={"title": "Target", "ref": ref}, headers=auth)
    assert offer.status_code == 201, offer.text
    created = stack.client.post(
        "/v1/events", json=TARGET_EVENT | {"ref": ref, "offer_ref": ref}, headers=auth
    )
    assert created.status_code == 201, created.text
    event_id = created.json()["id"]
    published = stack.client.post(f"/v1/events/{event_id}/publish", headers=auth)
    assert published.status_code == 200, published.text
    listed = stack.client.get(f"/v1/events/{event_id}/occurrences", headers=auth)
    occurrence_id = listed.json()["items"][0]["id"]
    made = stack.client.post(
        f"/v1/events/{event_id}/sessions", json={"name": "Morning", "capacity": 2}, headers=auth
    )
    assert made.status_code == 201, made.text
    # The attendee the attendee routes name; a move names an enrollment id that
    # need not exist (the job then fails with ENROLLMENT_NOT_FOUND, a refusal).
    person = stack.client.post(
        "/v1/attendees", json={"ref": "ada", "email": "ada@example.org"}, headers=auth
    )
    assert person.status_code in (201, 409), person.text
    keys = stack.client.get("/v1/keys", headers=auth)
    assert keys.status_code == 200, keys.text
    with stack.db() as session:
        # A spare key of the organisation to revoke and rotate: never the caller's own.
        organisation_id = uuid.UUID(keys.json()["keys"][0]["organisation_id"])
        organisation = session.get_one(Organisation, organisation_id)
        spare, _plaintext = create_api_key(
            session, organisation=organisation, scopes=["events:read"], now=utcnow(), name="spare"
        )
        spare_id = str(spare.id)
    # A webhook subscription for the webhook routes (a public name: nothing is sent
    # unless an event of its types happens, and then to a host that is not there).
    hook = stack.client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.org/fuzz", "events": ["job.failed"]},
        headers=auth,
    )
    assert hook.status_code == 201, hook.text
    return {
        "enrollment_id": str(uuid.uuid4()),
        "key_id": spare_id,
        "webhook_id": hook.json()["id"],
        "offer_id": ref,
        "event_id": ref,
        # Seed 002's dialect names the event and the organisation by their ids.
        "event_uuid": event_id,
        "org_uuid": str(organisation_id),
        "occurrence_id": occurrence_id,
        "session_id": made.json()["id"],
        "attendee_ref": "ada",
        "ref": "ada",
    }


def settings_for_schema() -> Settings:
    """Settings enough to build the app for its OpenAPI schema (nothing is opened)."""
    return Settings(database_url="sqlite://", redis_url="stub://")


def _domain_codes(cls: type[DomainError] = DomainError) -> set[str]:
    codes = {cls.code}
    for sub in cls.__subclasses__():
        codes |= _domain_codes(sub)
    return codes


#: The codes a job may fail with: expected refusals (DomainError), nothing else.
DOMAIN_CODES = frozenset(_domain_codes())


def assert_accepted_job_applies(stack: Stack, job_id: str, what: object) -> None:
    """Run the worker's own code on an accepted job, now: it finishes, and if it
    fails, with an expected refusal's code, never a crash to retry for hours."""
    try:
        apply_job(stack.sessions, uuid.UUID(job_id), now=utcnow)
    except Exception as exc:
        raise AssertionError(f"accepted job {job_id} cannot be applied: {exc!r} ({what})") from exc
    with stack.db() as session:
        job = session.get(Job, uuid.UUID(job_id))
        assert job is not None
        assert job.status in FINAL_JOB_STATUSES, (what, job.status, job.errors)
        codes = {error.get("code") for error in job.errors}
        assert codes <= DOMAIN_CODES, (what, job.errors)


def assert_clean_answer(response: httpx.Response, what: object) -> None:
    """No 5xx; every 4xx in the one JSON error body with a code and a message."""
    assert response.status_code < 500, (what, response.status_code, response.text[:2000])
    if response.status_code >= 400:
        assert response.headers.get("content-type", "").startswith("application/json"), (
            what,
            response.status_code,
            response.text[:500],
        )
        body = response.json()
        # Seed 002's dialect adds its ``statusCode`` beside the error (the status itself).
        assert set(body) - {"statusCode"} == {"error"}, (what, body)
        assert body.get("statusCode", response.status_code) == response.status_code, body
        assert {"code", "message"} <= set(body["error"]) <= {"code", "message", "details"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["code"].isupper(), body
