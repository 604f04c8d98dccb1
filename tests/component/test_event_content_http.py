"""Content access and completion settings of an event (seed 000) over HTTP on
SQLite: given on create, changed by PATCH, shown on the event and in lists,
copied, carried in the enrollment jobs' results; and every bad value refused
at the edge with its code."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support.event_helpers import call, ok, refused
from tests.support.factories import create_event, enroll, job
from tests.support.stack import Stack

TRAINING, COURSE, VIDEO, CERTIFICATE = (str(uuid.UUID(int=n)) for n in (11, 12, 13, 14))
CONTENT: dict[str, Any] = {
    "access_trainings": [TRAINING],
    "access_courses": [COURSE],
    "access_external_contents": [],
    "access_scorms": [],
    "access_videos": [VIDEO],
    "certificate_id": CERTIFICATE,
    "score_threshold": 72.5,
}
DATES = {"starts_at": "2031-09-12T09:00:00Z", "ends_at": "2031-09-12T12:00:00Z"}


def _content(event: dict[str, Any]) -> dict[str, Any]:
    return {name: event[name] for name in CONTENT}


def test_min_above_max_on_create_has_the_code_patch_has(component_stack: Stack) -> None:
    # Given an organiser
    key = component_stack.key()
    body = {"name": "x", "type": "MEETING", "min_subscriptions": 5, "max_subscriptions": 4}

    # When they create an event whose minimum is above its maximum
    response = call(component_stack, key, "POST", "/v1/events", json=body)

    # Then it is refused with the documented code, as a PATCH to the same values is
    refused(response, 422, "MIN_ABOVE_MAX")
    # and min equal to max is fine
    ok(call(component_stack, key, "POST", "/v1/events", json=body | {"min_subscriptions": 4}), 201)


def test_content_settings_are_stored_shown_patched_and_copied(component_stack: Stack) -> None:
    # Given an organiser creating an event with its content access and completion
    key = component_stack.key()
    body = {"name": "Sept", "type": "TRAINING", "ref": "sept", **DATES, **CONTENT}
    body["access_trainings"] = [TRAINING, TRAINING]  # the same id twice
    created = ok(call(component_stack, key, "POST", "/v1/events", json=body), 201)

    # Then the event shows them (a repeated id once), on GET and in the list
    assert _content(created) == CONTENT
    assert _content(ok(call(component_stack, key, "GET", "/v1/events/sept"))) == CONTENT
    listed = ok(call(component_stack, key, "GET", "/v1/events"))["items"]
    assert [_content(item) for item in listed] == [CONTENT]
    # And an event created without them has empty lists and nulls
    plain = create_event(component_stack, key, ref="plain")
    assert _content(plain) == {name: [] for name in CONTENT if name.startswith("access_")} | {
        "certificate_id": None,
        "score_threshold": None,
    }

    # When a PATCH changes some of them
    changes = {"access_videos": [], "access_scorms": [COURSE], "score_threshold": 100}
    patched = ok(call(component_stack, key, "PATCH", "/v1/events/sept", json=changes))

    # Then those change and the rest stay
    assert _content(patched) == CONTENT | changes
    cleared = ok(
        call(component_stack, key, "PATCH", "/v1/events/sept", json={"certificate_id": None})
    )
    assert cleared["certificate_id"] is None
    refused(
        call(component_stack, key, "PATCH", "/v1/events/sept", json={"access_courses": None}),
        422,
        "VALIDATION_ERROR",
    )

    # And a copy carries them
    copy = ok(call(component_stack, key, "POST", "/v1/events/sept/copy", json={"ref": "c"}), 201)
    assert _content(copy) == _content(cleared)


def test_enrollment_jobs_carry_the_content_to_unlock(component_stack: Stack) -> None:
    # Given a published event with content access and completion settings
    key = component_stack.key()
    body = {"name": "Sept", "type": "TRAINING", "ref": "sept", **DATES, **CONTENT}
    ok(call(component_stack, key, "POST", "/v1/events", json=body), 201)
    ok(call(component_stack, key, "POST", "/v1/events/sept/publish"))

    # When one attendee enrolls alone and two in a bulk (atomic and not)
    single = enroll(component_stack, key, "sept", "ada")
    bulks = [
        ok(
            call(
                component_stack,
                key,
                "POST",
                "/v1/events/sept/enrollments/bulk",
                json={
                    "atomic": atomic,
                    "attendees": [{"ref": f"b-{atomic}", "email": f"b{atomic}@example.org"}],
                },
            ),
            202,
        )
        for atomic in (True, False)
    ]
    component_stack.drain()

    # Then every job's result names what the upstream platform unlocks
    for accepted in [single, *bulks]:
        done = job(component_stack, key, accepted["id"])
        assert done["status"] == "succeeded", done
        assert done["result"]["content"] == CONTENT, done


HUGE = [str(uuid.UUID(int=n)) for n in range(201)]


def test_bad_content_values_are_refused_with_their_codes(component_stack: Stack) -> None:
    # Given an organiser and an event to patch
    key = component_stack.key()
    create_event(component_stack, key, ref="p")
    base = {"name": "x", "type": "MEETING"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"access_trainings": ["not-a-uuid"]}, "uuid_parsing"),
        ({"access_courses": ["a\x00b"]}, "uuid_parsing"),
        ({"access_videos": HUGE}, "too_long"),
        ({"access_scorms": "0000-0000"}, "list_type"),
        ({"access_external_contents": [2**63]}, "uuid_type"),
        ({"certificate_id": "x"}, "uuid_parsing"),
        ({"score_threshold": -0.5}, "greater_than_equal"),
        ({"score_threshold": 100.01}, "less_than_equal"),
        ({"score_threshold": 2**63}, "less_than_equal"),
        ({"score_threshold": "NaN"}, "finite_number"),
        ({"min_subscriptions": 2**63}, "less_than_equal"),
    ]
    for fields, error_type in cases:
        for method, path, body in (
            ("POST", "/v1/events", base | fields),
            ("PATCH", "/v1/events/p", fields),
        ):
            # When the value is sent, Then it is refused at the edge, naming the field
            error = refused(
                call(component_stack, key, method, path, json=body), 422, "VALIDATION_ERROR"
            )
            problems = error["details"]["errors"]
            assert error_type in {p["type"] for p in problems}, (method, fields, problems)
            assert problems[0]["loc"][1] == next(iter(fields)), (method, fields, problems)
    # A list at its bound is fine
    ok(call(component_stack, key, "PATCH", "/v1/events/p", json={"access_videos": HUGE[:200]}))
