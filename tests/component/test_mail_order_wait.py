"""An order wait is not a failure (review of issue 14): ``send_email`` waits for
an earlier mail of its attendee and event with Dramatiq's supported retry
mechanism (a Retry subclass, and the actor's ``retry_when``), however often,
and a refusal after the wait still gets its retries. The StubBroker's worker
runs the real actor."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.domain.ops.mail import queue_email
from rollcall.models import EmailMessage, Organisation
from rollcall.workers import actors
from tests.support.stack import Stack
from tests.support.waiting import wait_until

CONTEXT = {
    "event": {"name": "Intro"},
    "attendee": {"name": "Ada", "email": "ada@example.org"},
    "enrollment": {"waitlist_position": 1},
}


def test_waiting_for_an_earlier_mail_never_uses_up_the_retries(
    component_stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a retry budget of one, quick order waits and a quick backoff
    monkeypatch.setattr(actors, "MAIL_MAX_RETRIES", 1)
    monkeypatch.setattr(actors, "ORDER_WAIT_MS", 5)
    component_stack.settings.mail_retry_base_ms = 10
    waits: list[str] = []
    real = actors.deliver_email

    def counted(*args: Any, **kwargs: Any) -> Any:
        outcome = real(*args, **kwargs)
        if outcome.state == "blocked":
            waits.append(outcome.state)
        return outcome

    monkeypatch.setattr(actors, "deliver_email", counted)
    # ...and two ordered mails of Ada, the earlier held by a sender (in its lease)
    component_stack.key()
    about = (uuid.uuid4(), uuid.uuid4())
    with component_stack.db() as session:
        org = session.scalars(select(Organisation)).one()
        earlier, later = (
            queue_email(
                session,
                organisation_id=org.id,
                template=template,
                to_address="ada@example.org",
                to_name="Ada",
                context=CONTEXT,
                now=utcnow(),
                about=about,
            ).id
            for template in ("enrollment_confirmed", "enrollment_waitlisted")
        )
        held = session.get(EmailMessage, earlier)
        assert held is not None
        held.state, held.updated_at = "sending", utcnow()

    # When the later mail's send_email has waited many times more than the budget
    actors.send_email.send(str(later))
    wait_until(lambda: len(waits) >= 5, timeout=30, what="five order waits")
    # ...then the earlier is out, and the server refuses the later once
    component_stack.sink.replies.append("451 4.3.0 try again later")
    with component_stack.db() as session:
        row = session.get(EmailMessage, earlier)
        assert row is not None
        row.state = "sent"
    component_stack.drain()

    # Then the refusal was still retried: the later mail arrived, on its second attempt
    assert [m["Subject"] for m in component_stack.sink.messages] == [
        "You are on the waiting list: Intro"
    ]
    with component_stack.db() as session:
        row = session.get(EmailMessage, later)
        assert row is not None and (row.state, row.attempts) == ("sent", 2)
