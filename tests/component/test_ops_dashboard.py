"""The operators' dashboard on SQLite and the StubBroker: sign-in, scoping, pages, mail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.models import ApiKey, EmailMessage
from tests.support.factories import enroll, published_event
from tests.support.ops import COOKIE, labels, metrics, open_login, sign_in
from tests.support.stack import Stack

PAGES = ("/ops", "/ops/jobs", "/ops/dead-letters", "/ops/mail", "/ops/events")


def test_pages_need_a_signed_in_ops_key(component_stack: Stack) -> None:
    # Given no session, every page sends the browser to the sign-in form
    for page in PAGES:
        response = component_stack.client.get(page, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/ops/login")

    # When keys without the ops scope, unknown or revoked try to sign in, they are refused
    no_ops = component_stack.key(scopes=["events:read", "jobs:read"])
    browser = open_login(component_stack)
    for key in (no_ops, "rc_not-a-key", ""):
        response = component_stack.client.post(
            "/ops/login", data=browser.form(api_key=key), headers=browser
        )
        assert response.status_code == 401
        assert COOKIE not in response.headers.get("set-cookie", "")


def test_session_cookie_is_secure_httponly_signed_and_follows_the_key(
    component_stack: Stack,
) -> None:
    key = component_stack.key(scopes=["ops"])
    browser = open_login(component_stack)
    response = component_stack.client.post(
        "/ops/login", data=browser.form(api_key=key), headers=browser, follow_redirects=False
    )
    set_cookie = response.headers["set-cookie"].lower()
    assert all(flag in set_cookie for flag in ("httponly", "secure", "samesite=strict"))
    assert key.lower() not in set_cookie  # the key itself is never in the cookie
    cookie = sign_in(component_stack, key)
    for page in PAGES:
        assert component_stack.client.get(page, headers=cookie).status_code == 200, page

    # A tampered cookie is refused
    tampered = {"Cookie": f"{COOKIE}={cookie.cookies[COOKIE][:-4]}AAAA"}
    assert (
        component_stack.client.get("/ops", headers=tampered, follow_redirects=False).status_code
        == 303
    )

    # Revoking the key ends the session at once
    with component_stack.db() as session:
        for row in session.scalars(select(ApiKey)):
            row.revoked_at = utcnow()
    assert (
        component_stack.client.get("/ops", headers=cookie, follow_redirects=False).status_code
        == 303
    )


def test_jobs_and_mail_are_scoped_to_the_organisation(component_stack: Stack) -> None:
    # Given a failed job and its mail in acme
    acme = component_stack.key("acme")
    published_event(component_stack, acme, ref="tiny", max_subscriptions=1)
    enroll(component_stack, acme, "tiny", "ada")
    component_stack.drain()
    refused = enroll(component_stack, acme, "tiny", "bob")
    component_stack.drain()
    acme_cookie = sign_in(component_stack, acme)
    globex_cookie = sign_in(component_stack, component_stack.key("globex", scopes=["ops"]))

    # Then acme finds its failed job by status and sees its error and payload
    page = component_stack.client.get("/ops/jobs?status=failed", headers=acme_cookie).text
    assert refused["id"] in page and "EVENT_FULL" in page
    detail = component_stack.client.get(f"/ops/jobs/{refused['id']}", headers=acme_cookie)
    assert detail.status_code == 200
    assert "EVENT_FULL" in detail.text and "bob@example.org" in detail.text
    assert (
        "enrollment_confirmed" in component_stack.client.get("/ops/mail", headers=acme_cookie).text
    )

    # And globex sees none of it: not in lists, not by id, not its mail
    assert refused["id"] not in component_stack.client.get("/ops/jobs", headers=globex_cookie).text
    other = component_stack.client.get(f"/ops/jobs/{refused['id']}", headers=globex_cookie)
    assert other.status_code == 404 and "JOB_NOT_FOUND" in other.text
    assert (
        "ada@example.org" not in component_stack.client.get("/ops/mail", headers=globex_cookie).text
    )
    with component_stack.db() as session:
        mail_id = session.scalars(select(EmailMessage.id)).one()
    resend = component_stack.client.post(
        f"/ops/mail/{mail_id}/resend", data=globex_cookie.form(), headers=globex_cookie
    )
    assert resend.status_code == 404 and "MAIL_NOT_FOUND" in resend.text


def test_failed_mail_shows_the_smtp_reply_and_can_be_resent(component_stack: Stack) -> None:
    # Given a mail the SMTP server refused for good
    key = component_stack.key()
    published_event(component_stack, key, ref="m")
    component_stack.sink.replies.append("550 5.1.1 mailbox unavailable")
    enroll(component_stack, key, "m", "ada")
    component_stack.drain()
    cookie = sign_in(component_stack, key)
    page = component_stack.client.get("/ops/mail?state=failed", headers=cookie).text
    assert "mailbox unavailable" in page
    with component_stack.db() as session:
        mail_id = session.scalars(select(EmailMessage.id)).one()

    # When the operator resends it
    response = component_stack.client.post(
        f"/ops/mail/{mail_id}/resend", data=cookie.form(), headers=cookie, follow_redirects=False
    )
    assert response.status_code == 303
    component_stack.drain()

    # Then it is delivered, and resending a sent mail is refused with a code
    assert len(component_stack.sink.wait_for(1)) == 1
    with component_stack.db() as session:
        assert session.get(EmailMessage, mail_id).state == "sent"  # type: ignore[union-attr]
    again = component_stack.client.post(
        f"/ops/mail/{mail_id}/resend", data=cookie.form(), headers=cookie
    )
    assert again.status_code == 409 and "MAIL_NOT_RESENDABLE" in again.text


def test_events_page_shows_seats_and_orphan_payments(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="seats", name="Seats course", max_subscriptions=4)
    enroll(component_stack, key, "seats", "ada")
    component_stack.drain()
    from rollcall.models import Enrollment

    with component_stack.db() as session:  # a removal (issue 4's job) leaves the payment behind
        session.scalars(select(Enrollment)).one().status = "removed"
    page = component_stack.client.get("/ops/events", headers=sign_in(component_stack, key)).text
    assert "Seats course (seats)" in page
    assert 'id="orphans"' in page and "manual_enrolled" in page


def test_unsent_outbox_rows_are_counted(component_stack: Stack) -> None:
    # Given intake could not hand its message to the broker (the relay will)
    key = component_stack.key(operator=True)
    published_event(component_stack, key, ref="o")
    component_stack.settings.enqueue_on_commit = False
    enroll(component_stack, key, "o", "ada")
    assert metrics(component_stack, key)["rollcall_outbox_unsent"][()] == 1
    page = component_stack.client.get("/ops", headers=sign_in(component_stack, key)).text
    assert 'id="outbox"' in page


def test_metrics_need_an_operator_key(component_stack: Stack) -> None:
    assert component_stack.client.get("/metrics").status_code == 401
    plain = component_stack.key(scopes=["ops"])
    response = component_stack.client.get("/metrics", headers=component_stack.auth(plain))
    assert response.status_code == 403 and response.json()["error"]["code"] == "OPERATOR_ONLY"
    no_scope = component_stack.key(scopes=["jobs:read"], operator=True)
    response = component_stack.client.get("/metrics", headers=component_stack.auth(no_scope))
    assert response.json()["error"]["code"] == "INSUFFICIENT_SCOPE"


def test_metrics_count_jobs_mail_latency_and_orphans(component_stack: Stack) -> None:
    key = component_stack.key(operator=True)
    published_event(component_stack, key, ref="tiny", max_subscriptions=1)
    enroll(component_stack, key, "tiny", "ada")
    enroll(component_stack, key, "tiny", "bob")
    component_stack.drain()

    samples = metrics(component_stack, key)

    assert samples["rollcall_jobs"][labels(type="enroll", status="succeeded")] == 1
    assert samples["rollcall_jobs"][labels(type="enroll", status="failed")] == 1
    assert samples["rollcall_mail"][labels(state="sent")] == 1
    assert samples["rollcall_job_latency_seconds_count"][()] == 2
    assert samples["rollcall_job_latency_seconds_bucket"][labels(le="+Inf")] == 2
    assert samples["rollcall_job_latency_seconds_bucket"][labels(le="3600.0")] == 2
    assert samples.get("rollcall_orphan_payments", {}) == {}
    assert samples["rollcall_outbox_unsent"][()] == 0
    assert samples.get("rollcall_reminder_runs", {}) == {}  # no reminder_runs table yet


@pytest.mark.parametrize("state", ["done", "missed"])
def test_reminder_runs_metric_counts_runs_by_state(component_stack: Stack, state: str) -> None:
    from sqlalchemy import select

    from rollcall.domain.clock import utcnow
    from rollcall.models import Occurrence, ReminderRun
    from tests.support.factories import create_event

    key = component_stack.key(operator=True)
    create_event(
        component_stack,
        key,
        ref="rm",
        starts_at="2031-01-01T09:00:00Z",
        ends_at="2031-01-01T10:00:00Z",
    )
    with component_stack.db() as session:
        occurrence = session.scalars(select(Occurrence)).one()
        for kind in ("before", "after"):
            session.add(
                ReminderRun(
                    organisation_id=occurrence.event.organisation_id,
                    event_id=occurrence.event_id,
                    occurrence_id=occurrence.id,
                    kind=kind,
                    run_key=kind,
                    due_at=utcnow(),
                    state=state,
                    recipients=0,
                    created_at=utcnow(),
                )
            )
    assert metrics(component_stack, key)["rollcall_reminder_runs"] == {labels(state=state): 2}


def test_a_plain_ops_key_sees_no_queue_wide_figures(component_stack: Stack) -> None:
    plain = sign_in(component_stack, component_stack.key(scopes=["ops"]))
    page = component_stack.client.get("/ops", headers=plain).text
    assert "shown to platform operators" in page and 'id="queues"' not in page


def test_job_filters_by_event_ref_and_refuse_bad_actions(component_stack: Stack) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="one")
    published_event(component_stack, key, ref="two")
    first = enroll(component_stack, key, "one", "ada")
    second = enroll(component_stack, key, "two", "bob")
    component_stack.drain()
    cookie = sign_in(component_stack, key)

    page = component_stack.client.get("/ops/jobs?event=one", headers=cookie).text
    assert first["id"] in page and second["id"] not in page
    nothing = component_stack.client.get("/ops/jobs?event=unknown", headers=cookie).text
    assert "No job matches" in nothing

    bad = component_stack.client.post(
        "/ops/dead-letters/act", data=cookie.form(action="explode"), headers=cookie
    )
    assert bad.status_code == 422 and "VALIDATION_ERROR" in bad.text
    assert "nonce-" in bad.headers["content-security-policy"]
