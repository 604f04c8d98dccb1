"""Offers and content settings on real parts: PostgreSQL, Redis, a Dramatiq worker.

The access lists and the score go through PostgreSQL's JSON and double
columns and come back as they were sent; the enrollment job applied by a real
worker carries them; the database's foreign key keeps an offer with events
from being deleted even when the domain's count is bypassed.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from rollcall.models import Offer
from tests.support.event_helpers import call, ok, refused
from tests.support.factories import enroll, job
from tests.support.stack import Stack

CONTENT = {
    "access_trainings": [str(uuid.UUID(int=1)), str(uuid.UUID(int=2))],
    "access_courses": [],
    "access_external_contents": [str(uuid.UUID(int=3))],
    "access_scorms": [],
    "access_videos": [str(uuid.UUID(int=4))],
    "certificate_id": str(uuid.UUID(int=5)),
    "score_threshold": 0.1,
}


def test_an_offer_its_events_and_their_content_on_postgres(real_stack: Stack) -> None:
    # Given an offer and a published event in it with content settings, on PostgreSQL
    key = real_stack.key()
    offer = ok(
        call(
            real_stack, key, "POST", "/v1/offers", json={"title": "Starting moments", "ref": "sm"}
        ),
        201,
    )
    body = {
        "name": "Starting Moment September",
        "type": "TRAINING",
        "ref": "sept",
        "offer_ref": "sm",
        "max_subscriptions": 25,
        "min_subscriptions": 25,
        "dates": [
            {"starts_at": "2031-09-12T09:00:00Z", "ends_at": "2031-09-12T12:00:00Z"},
            {"starts_at": "2031-09-19T09:00:00Z", "ends_at": "2031-09-19T12:00:00Z"},
        ],
        **CONTENT,
    }
    created = ok(call(real_stack, key, "POST", "/v1/events", json=body), 201)
    ok(call(real_stack, key, "POST", "/v1/events/sept/publish"))

    # When an attendee enrolls through the worker
    accepted = enroll(real_stack, key, "sept", "ada")
    real_stack.drain()

    # Then the event and the offer's list show the settings as sent
    assert created["offer_id"] == offer["id"]
    listed = ok(call(real_stack, key, "GET", f"/v1/offers/{offer['id']}/events"))["items"]
    assert [item["ref"] for item in listed] == ["sept"]
    assert {name: listed[0][name] for name in CONTENT} == CONTENT
    # And the job's result carries them for the upstream platform
    done = job(real_stack, key, accepted["id"])
    assert (done["status"], done["result"]["content"]) == ("succeeded", CONTENT)

    # And the offer is not deleted while it holds the event
    refused(call(real_stack, key, "DELETE", "/v1/offers/sm"), 409, "OFFER_HAS_EVENTS")


def test_the_foreign_key_backs_the_refusal(real_stack: Stack) -> None:
    # Given an offer holding an event
    key = real_stack.key()
    offer = ok(call(real_stack, key, "POST", "/v1/offers", json={"title": "O", "ref": "o"}), 201)
    ok(
        call(
            real_stack,
            key,
            "POST",
            "/v1/events",
            json={"name": "E", "type": "TRAINING", "offer_ref": "o"},
        ),
        201,
    )

    # When the offer row is deleted behind the domain's back, Then PostgreSQL refuses
    with real_stack.db() as session, pytest.raises(IntegrityError):
        session.execute(delete(Offer).where(Offer.id == uuid.UUID(offer["id"])))
        session.commit()
    ok(call(real_stack, key, "GET", "/v1/offers/o"))
