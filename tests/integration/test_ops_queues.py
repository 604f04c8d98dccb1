"""The dashboard and /metrics on real parts: PostgreSQL, Redis, a Dramatiq worker, SMTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from rollcall.config.logs import JsonFormatter
from rollcall.models import Job
from tests.support.factories import enroll, job, published_event
from tests.support.ops import Flaky, labels, metrics, sign_in
from tests.support.stack import Stack


class JsonLines(logging.Handler):
    """Formats each record as it is emitted, in the emitting thread (context vars)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, object]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def json_lines() -> Iterator[JsonLines]:
    handler = JsonLines()
    logger = logging.getLogger("rollcall")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_dead_letter_is_listed_then_requeued_and_succeeds(
    real_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an enroll job whose worker crashes, so its message is dead-lettered
    flaky = Flaky(monkeypatch)
    key = real_stack.key(operator=True)
    published_event(real_stack, key, ref="dl", max_subscriptions=5)
    accepted = enroll(real_stack, key, "dl", "ada")
    real_stack.drain()
    cookie = sign_in(real_stack, key)

    # Then the job is failed with JOB_DEAD_LETTERED and the dead letter is listed
    failed = job(real_stack, key, accepted["id"])
    assert (failed["status"], failed["errors"][0]["code"]) == ("failed", "JOB_DEAD_LETTERED")
    page = real_stack.client.get("/ops/dead-letters", headers=cookie).text
    assert accepted["id"] in page and "database hiccup" in page
    overview = real_stack.client.get("/ops", headers=cookie).text
    assert 'id="queues"' in overview
    assert (
        metrics(real_stack, key)["rollcall_queue_messages"][labels(queue="jobs", state="dead")] == 1
    )

    # When the cause is fixed and the operator requeues every matching dead letter
    flaky.broken = False
    response = real_stack.client.post(
        "/ops/dead-letters/act",
        data=cookie.form(action="requeue", actor="process_job", q=accepted["id"]),
        headers=cookie,
        follow_redirects=False,
    )
    assert response.status_code == 303 and "1+message" in response.headers["location"]
    real_stack.drain()

    # Then the job succeeded, its mail went out and the dead-letter set is empty
    assert job(real_stack, key, accepted["id"])["status"] == "succeeded"
    assert len(real_stack.sink.wait_for(1)) == 1
    assert accepted["id"] not in real_stack.client.get("/ops/dead-letters", headers=cookie).text
    samples = metrics(real_stack, key)
    assert samples["rollcall_queue_messages"][labels(queue="jobs", state="dead")] == 0
    jobs_labels = labels(queue_name="jobs", actor_name="process_job")
    assert samples["dramatiq_message_rejects_total"][jobs_labels] == 1
    assert samples["dramatiq_messages_total"][jobs_labels] == 2
    assert samples["dramatiq_message_errors_total"][jobs_labels] == 1
    assert samples["dramatiq_message_duration_milliseconds_count"][jobs_labels] == 2
    assert samples["rollcall_workers_alive"][()] >= 1


def test_dead_letters_of_another_organisation_are_hidden_and_untouchable(
    real_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    Flaky(monkeypatch)
    acme = real_stack.key("acme")
    published_event(real_stack, acme, ref="x")
    accepted = enroll(real_stack, acme, "x", "ada")
    real_stack.drain()
    globex = sign_in(real_stack, real_stack.key("globex", scopes=["ops"]))

    assert accepted["id"] not in real_stack.client.get("/ops/dead-letters", headers=globex).text
    response = real_stack.client.post(
        "/ops/dead-letters/act",
        data=globex.form(action="delete"),
        headers=globex,
        follow_redirects=False,
    )
    assert "0+message" in response.headers["location"]
    acme_page = real_stack.client.get("/ops/dead-letters", headers=sign_in(real_stack, acme))
    assert accepted["id"] in acme_page.text


def test_job_logs_carry_the_request_id_from_the_api(
    real_stack: Stack, json_lines: JsonLines
) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="logs")
    body = {"attendee": {"ref": "ada", "email": "ada@example.org", "name": "Ada"}}
    response = real_stack.client.post(
        "/v1/events/logs/enrollments",
        json=body,
        headers=real_stack.auth(key) | {"X-Request-ID": "req-from-upstream-42"},
    )
    real_stack.drain()
    job_id = response.json()["id"]

    mine = [line for line in json_lines.lines if line.get("job_id") == job_id]
    started = [line for line in mine if line["msg"] == "job started"]
    finished = [line for line in mine if line["msg"] == "job finished"]
    assert len(started) == 1 and len(finished) == 1
    for line in (started[0], finished[0]):
        assert line["request_id"] == "req-from-upstream-42"
        assert line["job_type"] == "enroll" and line["organisation_id"]
    assert finished[0]["outcome"] == "succeeded" and float(finished[0]["duration_ms"]) >= 0
    with real_stack.db() as session:
        assert (
            session.get(Job, __import__("uuid").UUID(job_id)).request_id == "req-from-upstream-42"
        )  # type: ignore[union-attr]


def test_status_and_readyz_on_real_services(real_stack: Stack) -> None:
    from click.testing import CliRunner

    from rollcall.cli import main

    result = CliRunner().invoke(main, ["status"])
    assert result.exit_code == 0, result.output
    assert "workers alive: 1" in result.output and "jobs           0" in result.output
    ready = real_stack.client.get("/readyz").json()
    assert ready == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok", "smtp": "ok"},
        "producers": {},  # no scheduler has ticked in this test
    }


def test_dead_letter_contents_are_escaped_and_their_forms_carry_the_token(
    real_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from markupsafe import escape

    from tests.support.ops import post_forms

    # Given a job whose worker crashed with markup in its error, until dead-lettered
    payload = '<img src=x onerror=alert(1)><base href="https://evil.example/"><b>x</b>'
    Flaky(monkeypatch, message=f"boom {payload}")
    key = real_stack.key("acme", operator=True)
    published_event(real_stack, key, ref="esc")
    accepted = enroll(real_stack, key, "esc", "ada")
    real_stack.drain()
    cookie = sign_in(real_stack, key)

    # When the operator opens the dead letters
    page = real_stack.client.get("/ops/dead-letters", headers=cookie).text

    # Then the error (its last line and the whole traceback) is text, not markup
    assert accepted["id"] in page
    assert payload not in page and page.count(str(escape(f"boom {payload}"))) >= 2
    # And each requeue/delete form, per row and for all, carries the CSRF token
    forms = post_forms(page)
    assert len([f for f in forms if f["@action"] == "/ops/dead-letters/act"]) == 4, forms
    assert all(form["csrf_token"] == cookie.csrf_token for form in forms)
