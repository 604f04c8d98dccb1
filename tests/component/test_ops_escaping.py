"""Hostile text on the dashboard comes back as text: every field /ops shows,
from the database, the query string or a header, is HTML-escaped; and the
page's CSP bars <base> and foreign form targets.

(Dead-letter contents need Redis: tests/integration/test_ops_queues.py.)
"""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from rollcall.models import Job
from tests.support.factories import create_event, job
from tests.support.ops import post_forms, sign_in
from tests.support.stack import Stack

PAYLOADS = {
    "bold": "<b>bold</b>",
    "img": "<img src=x onerror=alert(document.domain)>",
    "base": '<base href="https://evil.example/">',
    "attribute": "\"'><svg onload=alert(1)>",
}


def assert_escaped(page: str, payload: str, *, shown: bool = True) -> None:
    """The payload is nowhere as markup; where ``shown``, it is there as text."""
    assert payload not in page
    if shown:
        assert str(escape(payload)) in page


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_every_field_on_the_dashboard_is_escaped(component_stack: Stack, payload: str) -> None:
    # Given an organisation, an event, an attendee and a job whose every
    # free-text field carries the payload, and a mail server that quotes it back
    key = component_stack.key(org=f"Org {payload}", operator=True)
    event = create_event(component_stack, key, name=payload[:75], ref=f"ref {payload}")
    assert component_stack.client.post(
        f"/v1/events/{event['id']}/publish", headers=component_stack.auth(key)
    ).is_success
    email = "o'neil&co@example.org"
    component_stack.sink.replies.append(f"550 5.1.1 {payload}")
    response = component_stack.client.post(
        f"/v1/events/{event['id']}/enrollments",
        json={"attendee": {"ref": payload, "email": email, "name": payload}},
        headers=component_stack.auth(key)
        | {"Idempotency-Key": f"idem {payload}", "X-Request-ID": f"req {payload}"},
    )
    assert response.status_code == 202, response.text
    component_stack.drain()
    job_id = response.json()["id"]
    assert job(component_stack, key, job_id)["status"] == "succeeded"
    cookie = sign_in(component_stack, key)

    def page(path: str, **params: str) -> str:
        answer = component_stack.client.get(path, params=params, headers=cookie)
        assert answer.status_code == 200, (path, answer.text[:300])
        csp = answer.headers["content-security-policy"]
        assert "base-uri 'none'" in csp and "form-action 'self'" in csp
        return answer.text

    # Then the event's name and ref on the events page are text
    assert_escaped(page("/ops/events"), f"{payload[:75]} (ref {payload})")
    # And the attendee's name, the address and the SMTP reply on the mail page
    mail = page("/ops/mail")
    for shown in (payload, email, f"550 5.1.1 {payload}"):
        assert_escaped(mail, shown)
    # And the mail page's state filter
    assert_escaped(page("/ops/mail", state=payload), payload)
    # And the job filters (the free-text one is echoed in its field)
    jobs = page("/ops/jobs", type=payload, status=payload, event=payload, day=payload)
    assert_escaped(jobs, payload)
    # And the job page: idempotency key, request id, payload and result
    detail = page(f"/ops/jobs/{job_id}")
    for shown in (f"idem {payload}", f"req {payload}"):
        assert_escaped(detail, shown)
    assert_escaped(detail, payload, shown=False)  # inside JSON: \u003c..., not &lt;
    # And the dead-letter filters
    assert_escaped(page("/ops/dead-letters", q=payload, queue=payload, actor=payload), payload)
    # And the organisation's name and a flash on every page
    for path in ("/ops", "/ops/jobs", "/ops/mail", "/ops/events", "/ops/dead-letters"):
        shown_page = page(path, flash=f"flash {payload}")
        assert_escaped(shown_page, f"flash {payload}")
        assert_escaped(shown_page, f"Org {payload}")
    # And the sign-in page's flash, which needs no session at all
    login = component_stack.client.get("/ops/login", params={"flash": payload})
    assert_escaped(login.text, payload)
    assert "base-uri 'none'" in login.headers["content-security-policy"]
    with component_stack.db() as session:
        assert session.scalars(select(Job.idempotency_key)).one() == f"idem {payload}"


def test_every_form_on_every_page_carries_a_csrf_token(component_stack: Stack) -> None:
    # Given a failed mail (so the mail page has its resend form)
    key = component_stack.key(operator=True)
    event = create_event(component_stack, key, name="Forms")
    component_stack.client.post(
        f"/v1/events/{event['id']}/publish", headers=component_stack.auth(key)
    )
    component_stack.sink.replies.append("550 5.1.1 no")
    component_stack.client.post(
        f"/v1/events/{event['id']}/enrollments",
        json={"attendee": {"ref": "ada", "email": "ada@example.org"}},
        headers=component_stack.auth(key),
    )
    component_stack.drain()
    cookie = sign_in(component_stack, key)

    # Then every POST form on every page carries the browser's token
    seen = 0
    for path in ("/ops", "/ops/jobs", "/ops/mail", "/ops/events", "/ops/dead-letters"):
        for form in post_forms(component_stack.client.get(path, headers=cookie).text):
            assert form.get("csrf_token") == cookie.csrf_token, (path, form)
            seen += 1
    [login] = post_forms(component_stack.client.get("/ops/login").text)
    assert login["@action"] == "/ops/login" and len(login["csrf_token"]) == 64
    assert seen >= 6  # sign-out on each page, and the resend form
