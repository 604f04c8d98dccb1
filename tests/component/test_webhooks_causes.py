"""Every event type whose cause exists is delivered: jobs, enrollments (placed,
promoted, removed, cancelled, in bulk too), events, occurrences and mail."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from rollcall.domain.webhooks.event_types import EVENT_TYPES
from rollcall.models import Enrollment
from tests.support.enrollment import person
from tests.support.event_helpers import DAILY, call, ok
from tests.support.factories import enroll, published_event
from tests.support.faults import wait_until
from tests.support.moving import enroll_into, enrollment_of, move, per_date_event
from tests.support.stack import Stack
from tests.support.webhook_receiver import webhook_receiver

#: Every type has its cause below.
NOT_CAUSED_HERE: set[str] = set()


def test_every_wired_type_is_delivered(component_stack: Stack) -> None:
    component_stack.settings.webhook_allow_private_targets = True
    component_stack.settings.occurrence_horizon_days = 3650
    key = component_stack.key()
    auth = component_stack.auth(key)
    with webhook_receiver() as receiver:
        ok(
            call(
                component_stack,
                key,
                "POST",
                "/v1/webhooks",
                json={"url": receiver.url, "events": list(EVENT_TYPES)},
            ),
            201,
        )
        # Given an event of one seat with a waiting list
        published_event(component_stack, key, ref="ev", max_subscriptions=1, waiting_list=True)
        enroll(component_stack, key, "ev", "ada")
        enroll(component_stack, key, "ev", "bob")
        enroll(component_stack, key, "ev", "ada")  # already enrolled: job.failed
        component_stack.drain()
        # When ada is removed (bob is promoted) and bob cancels
        component_stack.client.delete("/v1/events/ev/attendees/ada", headers=auth)
        component_stack.drain()
        with component_stack.db() as session:
            bob = session.scalars(select(Enrollment).where(Enrollment.status == "enrolled")).one()
        component_stack.client.post(f"/v1/events/ev/enrollments/{bob.id}/cancel", headers=auth)
        component_stack.drain()
        # And a bulk job half of whose rows fail, with a mail server refusing a mail for good
        component_stack.sink.replies.append("550 5.1.1 mailbox unavailable")
        published_event(component_stack, key, ref="big", max_subscriptions=10)
        bulk = {"atomic": False, "attendees": [person("cy"), person("cy")]}
        response = component_stack.client.post(
            "/v1/events/big/enrollments/bulk", json=bulk, headers=auth
        )
        assert response.status_code == 202, response.text
        component_stack.drain()
        # And a date of a recurring event is cancelled, then the event
        daily = published_event(component_stack, key, ref="daily", recurrence=DAILY)
        occurrences = component_stack.client.get(
            f"/v1/events/{daily['id']}/occurrences", headers=auth
        ).json()["items"]
        component_stack.client.post(
            f"/v1/events/daily/occurrences/{occurrences[0]['id']}/cancel", headers=auth
        )
        # And another date of it is rescheduled, and the event gets a new place
        second = occurrences[1]
        shift = timedelta(minutes=30)
        later = {
            "starts_at": (datetime.fromisoformat(second["starts_at"]["utc"]) + shift).isoformat(),
            "ends_at": (datetime.fromisoformat(second["ends_at"]["utc"]) + shift).isoformat(),
            "send_notification": False,
        }
        ok(
            call(
                component_stack,
                key,
                "POST",
                f"/v1/events/daily/occurrences/{second['id']}/reschedule",
                json=later,
            ),
            200,
        )
        patch = {"online_url": "https://meet.example.org/daily", "send_notification": False}
        ok(call(component_stack, key, "PATCH", "/v1/events/daily", json=patch), 200)
        # And an enrollment is moved to another date
        _, (first, second, _third) = per_date_event(component_stack, key, seats=1)
        enroll_into(component_stack, key, "pottery", "dee", occurrence_id=first)
        component_stack.drain()
        dee = enrollment_of(component_stack, "dee")
        assert (
            move(component_stack, key, "pottery", str(dee.id), occurrence_id=second)["status"]
            == "succeeded"
        )
        component_stack.client.post("/v1/events/ev/cancel", headers=auth)
        component_stack.drain()

        expected = set(EVENT_TYPES) - NOT_CAUSED_HERE

        def types() -> set[str]:
            return {json.loads(r.body)["type"] for r in receiver.unique().values()}

        wait_until(lambda: types() >= expected, timeout=30, what=f"{expected - types()}")
        component_stack.drain()

    bodies: list[dict[str, Any]] = [json.loads(r.body) for r in receiver.unique().values()]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for body in bodies:
        by_type.setdefault(body["type"], []).append(body["data"])
    assert by_type["enrollment.promoted"][0]["attendee"] == {"ref": "bob"}
    assert by_type["enrollment.removed"][0]["attendee"] == {"ref": "ada"}
    assert by_type["job.failed"][0]["job"]["errors"][0]["code"] == "ALREADY_ENROLLED"
    partial = by_type["job.partially_succeeded"][0]["job"]
    assert partial["errors_total"] == 1 and partial["errors"][0]["code"] == "DUPLICATE_ROW"
    assert by_type["occurrence.cancelled"][0]["occurrence"]["id"] == occurrences[0]["id"]
    assert by_type["event.cancelled"][0]["event"]["ref"] == "ev"
    moved = by_type["enrollment.moved"][0]
    assert moved["attendee"] == {"ref": "dee"} and moved["enrollment"]["occurrence_id"] == second
    # The reschedule and the place change: one event.changed each
    assert [d["event"]["ref"] for d in by_type["event.changed"]] == ["daily", "daily"]
    assert by_type["mail.failed"][0]["mail"]["error"].startswith("550")
