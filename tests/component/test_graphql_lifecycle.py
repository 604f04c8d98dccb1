"""Seed 001's mutations over GraphQL on SQLite: each succeeds where REST's
PATCH, unpublish and delete do, and a refusal says the seed's sentence with
Rollcall's code in extensions.error.code."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from rollcall.models import Event
from tests.support.event_helpers import call, ok
from tests.support.factories import create_event, enroll, published_event
from tests.support.graphql import data, refusal
from tests.support.stack import Stack

EDIT_NAME = "mutation editName($input: EditNameInput!) { editName(input: $input) { success } }"
DESCRIPTION = """mutation addOrEditDescription($input: AddOrEditDescriptionInput!) {
  addOrEditDescription(input: $input) { success } }"""
REGISTRATION_END = """mutation addOrEditRegistrationEnd($input: AddOrEditRegistrationEndInput!) {
  addOrEditRegistrationEnd(input: $input) { success } }"""
UNPUBLISH = """mutation unpublishEvent($input: UnpublishEventInput!) {
  unpublishEvent(input: $input) { success } }"""
DELETE = (
    "mutation deleteEvent($input: DeleteEventInput!) { deleteEvent(input: $input) { eventId } }"
)


def _complete(stack: Stack, event_id: str) -> None:
    """As the scheduler completes an event whose last date has ended."""
    with stack.db() as session:
        session.execute(
            update(Event).where(Event.id == uuid.UUID(event_id)).values(status="completed")
        )


def test_a_draft_is_edited_then_deleted(component_stack: Stack) -> None:
    # Given a draft
    key = component_stack.key()
    event = create_event(component_stack, key, ref="draft-1")
    ids = {"eventId": event["id"]}

    # When the seed's mutations edit it
    ok_ = {"success": True}
    assert data(component_stack, key, EDIT_NAME, {"input": ids | {"name": "Renamed"}}) == {
        "editName": ok_
    }
    assert data(component_stack, key, DESCRIPTION, {"input": ids | {"description": "Hi"}}) == {
        "addOrEditDescription": ok_
    }
    end = {"registrationEnd": "2031-01-01T10:00:00Z"}
    assert data(component_stack, key, REGISTRATION_END, {"input": ids | end}) == {
        "addOrEditRegistrationEnd": ok_
    }

    # Then REST shows the changes
    rest = ok(call(component_stack, key, "GET", f"/v1/events/{event['id']}"))
    assert (rest["name"], rest["description"]) == ("Renamed", "Hi")
    assert rest["registration_end"]["utc"].startswith("2031-01-01T10:00:00")

    # And the event is deleted by ref too, answering its id
    deleted = data(component_stack, key, DELETE, {"input": {"eventId": "draft-1"}})
    assert deleted == {"deleteEvent": {"eventId": event["id"]}}
    call_ = call(component_stack, key, "GET", f"/v1/events/{event['id']}")
    assert call_.status_code == 404


@pytest.mark.parametrize(
    ("query", "values", "code", "sentence"),
    [
        (
            EDIT_NAME,
            {"name": "x"},
            "EVENT_NOT_DRAFT",
            "Cannot edit name for an event, which has already been published.",
        ),
        (
            REGISTRATION_END,
            {"registrationEnd": "2031-01-01T10:00:00Z"},
            "EVENT_NOT_DRAFT",
            "Cannot edit registration end for an event, which has already been published.",
        ),
        (DELETE, {}, "EVENT_IS_PUBLISHED", "Cannot delete published event"),
        (
            UNPUBLISH,
            {},
            "EVENT_HAS_ENROLLMENTS",
            "Tickets for this event have already been sold or reserved.",
        ),
    ],
)
def test_a_published_event_with_a_seat_taken_refuses_in_the_seeds_words(
    component_stack: Stack, query: str, values: dict[str, str], code: str, sentence: str
) -> None:
    # Given a published event with an attendee
    key = component_stack.key()
    event = published_event(component_stack, key)
    enroll(component_stack, key, event["id"], "ada")
    component_stack.drain()

    # Then the seed's refusal: its sentence, Rollcall's code
    error = refusal(
        component_stack, key, query, {"input": {"eventId": event["id"]} | values}, code=code
    )
    assert error["message"] == sentence
    # And the description may still change while published
    assert data(
        component_stack, key, DESCRIPTION, {"input": {"eventId": event["id"], "description": "d"}}
    )


def test_the_other_refusals(component_stack: Stack) -> None:
    key = component_stack.key()
    other = component_stack.key(org="globex")
    draft = create_event(component_stack, key)
    done = published_event(component_stack, key)
    _complete(component_stack, done["id"])

    def said(
        query: str, event_id: str, code: str, sentence: str, by: str = key, **values: str
    ) -> None:
        error = refusal(
            component_stack, by, query, {"input": {"eventId": event_id} | values}, code=code
        )
        assert error["message"] == sentence

    said(UNPUBLISH, draft["id"], "EVENT_ALREADY_UNPUBLISHED", "Event is already unpublished")
    said(
        UNPUBLISH,
        done["id"],
        "EVENT_COMPLETED",
        "Event is already completed and cannot be unpublished.",
    )
    said(UNPUBLISH, draft["id"], "EVENT_NOT_FOUND", "Event with given id not found.", by=other)
    said(
        EDIT_NAME,
        done["id"],
        "EVENT_COMPLETED",
        "Cannot edit name for an event, which is completed.",
        name="x",
    )
    said(EDIT_NAME, draft["id"], "EVENT_NOT_FOUND", "Event not found.", by=other, name="x")
    said(
        DESCRIPTION,
        done["id"],
        "EVENT_COMPLETED",
        "Cannot edit description for an event, which is completed.",
        description="x",
    )
    said(DELETE, done["id"], "EVENT_COMPLETED", "Cannot delete completed event")
    said(DELETE, "nope", "EVENT_NOT_FOUND", "Event not found.")
    # A name REST refuses (over 75 characters) is refused alike
    refusal(
        component_stack,
        key,
        EDIT_NAME,
        {"input": {"eventId": draft["id"], "name": "x" * 76}},
        code="VALIDATION_ERROR",
    )
    # events:write is needed
    reader = component_stack.key(scopes=["events:read"])
    refusal(
        component_stack,
        reader,
        DELETE,
        {"input": {"eventId": draft["id"]}},
        code="INSUFFICIENT_SCOPE",
    )
