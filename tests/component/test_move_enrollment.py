"""Moving an enrollment to another date or session (issue 15 #7), over HTTP."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from rollcall.models import EmailMessage, Event, EventSession, Payment
from tests.support.enrollment import mail_templates, statuses
from tests.support.factories import job, published_event
from tests.support.moving import (
    enroll_into,
    enrollment_of,
    move,
    occurrence_counts,
    per_date_event,
)
from tests.support.stack import Stack


def test_a_seat_moves_with_its_payment_and_promotes_the_next_in_line(
    component_stack: Stack,
) -> None:
    # Given ada holds the one seat of the first date, bob waits for it
    stack = component_stack
    key = stack.key()
    _, (first, second, _third) = per_date_event(stack, key, seats=1)
    enroll_into(stack, key, "pottery", "ada", occurrence_id=first)
    enroll_into(stack, key, "pottery", "bob", occurrence_id=first)
    stack.drain()
    ada = enrollment_of(stack, "ada")
    with stack.db() as session:
        (payment_before,) = session.scalars(select(Payment.id)).all()

    # When ada is moved to the second date
    done = move(stack, key, "pottery", str(ada.id), occurrence_id=second)

    # Then her enrollment (same id) holds the second date, bob has her old seat
    assert done["status"] == "succeeded", done
    result = done["result"]
    assert (result["enrollment_id"], result["status"]) == (str(ada.id), "enrolled")
    assert (result["from_scope"], result["scope"]) == (f"occ:{first}", f"occ:{second}")
    assert [p["attendee_ref"] for p in result["promoted"]] == ["bob"]
    assert statuses(stack) == {"ada": "enrolled", "bob": "enrolled"}
    assert occurrence_counts(stack, first) == (1, 0)
    assert occurrence_counts(stack, second) == (1, 0)
    # ... her payment is the same one, no orphan; bob's comp payment is new
    with stack.db() as session:
        payments = session.scalars(select(Payment)).all()
        assert len(payments) == 2
        assert {p.enrollment_id for p in payments if p.id == payment_before} == {ada.id}
    shown = stack.client.get("/v1/attendees/ada/enrollments", headers=stack.auth(key)).json()
    assert shown["orphan_payments"] == []
    assert [e["occurrence_id"] for e in shown["enrollments"]] == [second]
    # ... and she got exactly one mail about it, saying where she was and is
    assert mail_templates(stack) == [
        ("ada", "enrollment_confirmed"),
        ("ada", "enrollment_moved"),
        ("bob", "enrollment_promoted"),
        ("bob", "enrollment_waitlisted"),
    ]
    moved = [m for m in stack.sink.wait_for(4) if m["Subject"].startswith("Your enrollment has")]
    assert [m["Subject"] for m in moved] == ["Your enrollment has moved: Pottery workshop"]
    text = moved[0].get_body(preferencelist=("plain",)).get_content()
    assert "Now: " in text, text
    was = next(line for line in text.splitlines() if line.startswith("Was: "))
    now = next(line for line in text.splitlines() if line.startswith("Now: "))
    assert "May 1, 2030" in was and "10:00" in was, was
    assert "May 8, 2030" in now and "10:00" in now, now
    assert "You are enrolled there." in text


def test_a_full_target_refuses_a_seat_and_nothing_changes(component_stack: Stack) -> None:
    # Given ada on the first date, cy holding the one seat of the second
    stack = component_stack
    key = stack.key()
    _, (first, second, _third) = per_date_event(stack, key, seats=1)
    enroll_into(stack, key, "pottery", "ada", occurrence_id=first)
    enroll_into(stack, key, "pottery", "cy", occurrence_id=second)
    stack.drain()
    ada = enrollment_of(stack, "ada")

    # When ada is moved to the full second date
    done = move(stack, key, "pottery", str(ada.id), occurrence_id=second)

    # Then the job fails with MOVE_TARGET_FULL; she keeps her seat, nobody is mailed
    assert done["status"] == "failed"
    assert done["errors"][0]["code"] == "MOVE_TARGET_FULL"
    assert enrollment_of(stack, "ada").scope_key == f"occ:{first}"
    assert occurrence_counts(stack, first) == (1, 0)
    assert occurrence_counts(stack, second) == (1, 0)
    assert ("ada", "enrollment_moved") not in mail_templates(stack)


def test_a_waiting_list_place_moves_to_a_free_seat_or_the_end_of_the_line(
    component_stack: Stack,
) -> None:
    # Given ada seated and bob waiting on date 1; cy seated and dan waiting on date 2
    stack = component_stack
    key = stack.key()
    _, (first, second, third) = per_date_event(stack, key, seats=1)
    for ref, date in (("ada", first), ("bob", first), ("cy", second), ("dan", second)):
        enroll_into(stack, key, "pottery", ref, occurrence_id=date)
        stack.drain()
    bob = enrollment_of(stack, "bob")

    # When bob's place moves to the full date 2: he joins its line behind dan
    done = move(stack, key, "pottery", str(bob.id), occurrence_id=second)
    assert done["status"] == "succeeded", done
    assert (done["result"]["status"], done["result"]["waitlist_position"]) == ("waitlisted", 2)
    assert occurrence_counts(stack, first) == (1, 0)
    assert occurrence_counts(stack, second) == (1, 2)

    # When it moves on to the empty date 3: a seat, with its comp payment
    done = move(stack, key, "pottery", str(bob.id), occurrence_id=third)
    assert (done["status"], done["result"]["status"]) == ("succeeded", "enrolled")
    assert occurrence_counts(stack, second) == (1, 1)
    assert occurrence_counts(stack, third) == (1, 0)
    with stack.db() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Payment).where(Payment.enrollment_id == bob.id)
            )
            == 1
        )
        moved_mails = session.scalars(
            select(EmailMessage.context)
            .where(EmailMessage.template == "enrollment_moved")
            .order_by(EmailMessage.created_at)  # PostgreSQL keeps no insertion order
        ).all()
    assert [(m["was"]["status"], m["enrollment"]["status"]) for m in moved_mails] == [
        ("waitlisted", "waitlisted"),
        ("waitlisted", "enrolled"),
    ]


def test_a_seat_moves_between_sessions_sharing_a_full_event(component_stack: Stack) -> None:
    # Given an event of 2 seats with two sessions of 2; ada and bob in the morning
    stack = component_stack
    key = stack.key()
    published_event(stack, key, ref="conf", max_subscriptions=2, waiting_list=True)
    sessions = []
    for name in ("Morning", "Afternoon"):
        made = stack.client.post(
            "/v1/events/conf/sessions", json={"name": name, "capacity": 2}, headers=stack.auth(key)
        )
        assert made.status_code == 201, made.text
        sessions.append(made.json()["id"])
    morning, afternoon = sessions
    for ref in ("ada", "bob", "cy"):
        enroll_into(stack, key, "conf", ref, session_id=morning)
        stack.drain()

    # When ada moves to the afternoon (the event is full, but she holds an event seat)
    ada = enrollment_of(stack, "ada")
    done = move(stack, key, "conf", str(ada.id), session_id=afternoon)

    # Then she is in the afternoon; her morning seat is free, but cy stays in
    # line: the event's own 2 seats are still taken (ada kept hers)
    assert done["status"] == "succeeded", done
    assert done["result"]["promoted"] == []
    with stack.db() as session:
        event = session.scalars(select(Event)).one()
        assert (event.enrolled_count, event.waitlisted_count) == (2, 0)
        counts = {
            s.name: (s.enrolled_count, s.waitlisted_count)
            for s in session.scalars(select(EventSession))
        }
    assert counts == {"Morning": (1, 1), "Afternoon": (1, 0)}
    # Four mails: ada, bob, cy placed, then ada moved (waiting for a fifth took 20 s)
    mail = [m for m in stack.sink.wait_for(4) if "moved" in m["Subject"]]
    assert len(stack.sink.messages) == 4 and len(mail) == 1
    assert 'Now: session "Afternoon"' in mail[0].get_body(preferencelist=("plain",)).get_content()


def test_bad_moves_are_refused_with_a_code(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    _, (first, second, _third) = per_date_event(stack, key, seats=2)
    enroll_into(stack, key, "pottery", "ada", occurrence_id=first)
    enroll_into(stack, key, "pottery", "bob", occurrence_id=second)
    stack.drain()
    ada = str(enrollment_of(stack, "ada").id)
    url = f"/v1/events/pottery/enrollments/{ada}/move"

    # At the edge: no target, both targets, a field it does not know, a bad UUID
    for body, code in (
        ({}, "VALIDATION_ERROR"),
        ({"occurrence_id": first, "session_id": first}, "OCCURRENCE_AND_SESSION"),
        ({"occurrence_id": second, "seats": 2}, "VALIDATION_ERROR"),
        ({"occurrence_id": "not-a-uuid"}, "VALIDATION_ERROR"),
        ({"occurrence_id": "\x00"}, "VALIDATION_ERROR"),
    ):
        response = stack.client.post(url, json=body, headers=stack.auth(key))
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == code, body
    for path, code in (
        ("/v1/events/pottery/enrollments/nope/move", "ENROLLMENT_NOT_FOUND"),
        ("/v1/events/nope/enrollments/" + ada + "/move", "EVENT_NOT_FOUND"),
    ):
        response = stack.client.post(path, json={"occurrence_id": second}, headers=stack.auth(key))
        assert (response.status_code, response.json()["error"]["code"]) == (404, code)

    # In the job: the same date, an unknown date, a date the attendee already holds,
    # an enrollment of another event
    _, (elsewhere, *_rest) = per_date_event(stack, key, ref="other")
    for target, code in (
        ({"occurrence_id": first}, "MOVE_SAME_SCOPE"),
        ({"occurrence_id": str(uuid.uuid4())}, "OCCURRENCE_NOT_FOUND"),
        ({"session_id": str(uuid.uuid4())}, "SESSION_NOT_FOUND"),
    ):
        done = move(stack, key, "pottery", ada, **target)
        assert (done["status"], done["errors"][0]["code"]) == ("failed", code), target
    bob = str(enrollment_of(stack, "bob").id)
    enroll_into(stack, key, "pottery", "bob", occurrence_id=first)
    stack.drain()
    done = move(stack, key, "pottery", bob, occurrence_id=first)
    assert done["errors"][0]["code"] == "ALREADY_ENROLLED"
    done = move(stack, key, "other", ada, occurrence_id=elsewhere)
    assert done["errors"][0]["code"] == "ENROLLMENT_NOT_FOUND"
    # An ended enrollment does not move
    cancelled = stack.client.post(
        f"/v1/events/pottery/enrollments/{ada}/cancel", headers=stack.auth(key)
    )
    stack.drain()
    assert job(stack, key, cancelled.json()["id"])["status"] == "succeeded"
    done = move(stack, key, "pottery", ada, occurrence_id=second)
    assert done["errors"][0]["code"] == "ENROLLMENT_NOT_FOUND"


def test_the_moved_mail_speaks_the_attendees_language(component_stack: Stack) -> None:
    # Given a Dutch and a German attendee on the first date
    stack = component_stack
    key = stack.key()
    _, (first, second, _third) = per_date_event(stack, key, seats=3)
    for ref, locale in (("joost", "nl-BE"), ("greta", "de")):
        body = {
            "attendee": {"ref": ref, "email": f"{ref}@example.org", "locale": locale},
            "occurrence_id": first,
        }
        accepted = stack.client.post(
            "/v1/events/pottery/enrollments", json=body, headers=stack.auth(key)
        )
        assert accepted.status_code == 202, accepted.text
    stack.drain()

    # When both are moved to the second date
    for ref in ("joost", "greta"):
        done = move(stack, key, "pottery", str(enrollment_of(stack, ref).id), occurrence_id=second)
        assert done["status"] == "succeeded", done

    # Then each moved mail is in their language (nl-BE -> nl)
    subjects = {
        m["To"].addresses[0].addr_spec: m["Subject"]
        for m in stack.sink.wait_for(4)
        if "verplaatst" in m["Subject"] or "verschoben" in m["Subject"]
    }
    assert subjects == {
        "joost@example.org": "Je inschrijving is verplaatst: Pottery workshop",
        "greta@example.org": "Ihre Anmeldung wurde verschoben: Pottery workshop",
    }
