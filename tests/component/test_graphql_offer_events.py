"""Seed 000 over GraphQL on SQLite: the offerEvent and offer queries and the
offer-event mutations answer what REST answers for the same event, with REST's
scopes, codes and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from rollcall.domain.clock import utcnow
from rollcall.messaging.outbox import relay
from rollcall.models import Job, OutboxMessage
from tests.support.event_helpers import call, make_attendee, ok
from tests.support.factories import enroll
from tests.support.graphql import data, post, refusal
from tests.support.stack import Stack

FIELDS = """
id ref title type dates { id startDate endDate } maxSubscriptions minSubscriptions
enrolledCount spotsAvailable waitingList closingDate price cancelled publish
trainers { id ref } accessTrainings { id } accessCourses { id }
accessExternalContents { id } accessScorms { id } accessVideos { id }
certificateId scoreThreshold
"""

CREATE = f"""
mutation($offerRef: String, $input: CreateOfferEventInput!) {{
  createOfferEvent(offerRef: $offerRef, offerEvent: $input) {{ offerEvent {{ {FIELDS} }} }}
}}
"""

UPDATE = """
mutation($ref: String, $id: UUID, $input: UpdateOfferEventInput!, $notify: Boolean) {
  updateOfferEvent(ref: $ref, id: $id, offerEvent: $input, sendNotification: $notify) {
    offerEvent { id title publish cancelled maxSubscriptions closingDate dates { startDate } }
  }
}
"""

TRAINING = str(uuid.UUID(int=7))
CERTIFICATE = str(uuid.UUID(int=9))


def _offer(stack: Stack, key: str, ref: str = "onb") -> dict[str, object]:
    query = """mutation($ref: String) {
      createOffer(offer: {title: "Onboarding", ref: $ref}) { offer { id ref } } }"""
    offer: dict[str, object] = data(stack, key, query, {"ref": ref})["createOffer"]["offer"]
    return offer


def _create(stack: Stack, key: str, **fields: object) -> dict[str, object]:
    body = {
        "title": "Starting Moment September",
        "ref": "event-sept-2031",
        "type": "TRAINING",
        "accessTrainings": [TRAINING],
        "maxSubscriptions": 25,
        "dates": [
            {"startDate": "2031-09-12T09:00:00Z", "endDate": "2031-09-12T12:00:00Z"},
            {"startDate": "2031-09-19T09:00:00Z", "endDate": "2031-09-19T12:00:00Z"},
        ],
    } | fields
    created: dict[str, object] = data(stack, key, CREATE, {"offerRef": "onb", "input": body})[
        "createOfferEvent"
    ]["offerEvent"]
    return created


def test_an_event_is_created_in_an_offer_and_read_as_rest_reads_it(
    component_stack: Stack,
) -> None:
    # Given an offer
    key = component_stack.key()
    offer = _offer(component_stack, key)

    # When an event is created in it over GraphQL with every seed field
    created = _create(
        component_stack,
        key,
        minSubscriptions=2,
        waitingList=True,
        price="12.50",
        closingDate="2031-09-01T00:00:00Z",
        certificateId=CERTIFICATE,
        scoreThreshold=0.7,
    )

    # Then GraphQL shows what REST stored
    rest = ok(call(component_stack, key, "GET", f"/v1/events/{created['id']}"))
    assert created["title"] == rest["name"] == "Starting Moment September"
    assert (created["ref"], created["type"], created["publish"]) == (
        "event-sept-2031",
        "TRAINING",
        False,
    )
    assert (created["maxSubscriptions"], created["minSubscriptions"]) == (25, 2)
    assert (created["enrolledCount"], created["spotsAvailable"]) == (0, 25)
    assert created["price"] == "12.50" and created["waitingList"] is True
    assert created["closingDate"] == "2031-09-01T00:00:00+00:00"
    assert created["accessTrainings"] == [{"id": TRAINING}]
    assert created["accessCourses"] == [] and created["trainers"] == []
    assert (created["certificateId"], created["scoreThreshold"]) == (CERTIFICATE, 0.7)
    assert rest["offer_id"] == offer["id"] and rest["access_trainings"] == [TRAINING]
    occurrences = ok(call(component_stack, key, "GET", f"/v1/events/{created['id']}/occurrences"))
    assert [d["id"] for d in created["dates"]] == [o["id"] for o in occurrences["items"]]
    assert [d["startDate"] for d in created["dates"]] == [
        "2031-09-12T09:00:00+00:00",
        "2031-09-19T09:00:00+00:00",
    ]

    # And the queries find it by id and by ref, and under its offer
    query = f"query($id: UUID, $ref: String) {{ offerEvent(id: $id, ref: $ref) {{ {FIELDS} }} }}"
    assert data(component_stack, key, query, {"id": created["id"]})["offerEvent"] == created
    assert data(component_stack, key, query, {"ref": "event-sept-2031"})["offerEvent"] == created
    listed = data(
        component_stack,
        key,
        'query { offer(ref: "onb") { id ref title offerEvents { id title ref type } } }',
    )["offer"]
    assert listed["offerEvents"] == [
        {"id": created["id"], "title": created["title"], "ref": created["ref"], "type": "TRAINING"}
    ]


def test_update_publishes_unpublishes_and_cancels_through_the_domain(
    component_stack: Stack,
) -> None:
    key = component_stack.key()
    _offer(component_stack, key)
    created = _create(component_stack, key)

    # When the seed's update by ref changes fields and publishes
    updated = data(
        component_stack,
        key,
        UPDATE,
        {"ref": "event-sept-2031", "input": {"title": "New title", "maxSubscriptions": 30}},
    )["updateOfferEvent"]["offerEvent"]
    assert (updated["title"], updated["maxSubscriptions"]) == ("New title", 30)
    published = data(
        component_stack, key, UPDATE, {"id": created["id"], "input": {"publish": True}}
    )["updateOfferEvent"]["offerEvent"]
    assert published["publish"] is True
    rest = ok(call(component_stack, key, "GET", "/v1/events/event-sept-2031"))
    assert (rest["status"], rest["name"], rest["max_subscriptions"]) == (
        "published",
        "New title",
        30,
    )

    # Then publishing again is no change, and a draft-only field is refused as REST refuses it
    again = data(component_stack, key, UPDATE, {"id": created["id"], "input": {"publish": True}})
    assert again["updateOfferEvent"]["offerEvent"]["publish"] is True
    refusal(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"closingDate": "2031-09-02T00:00:00Z"}},
        code="EVENT_NOT_DRAFT",
    )

    # And unpublish + a draft-only change go together (unpublished first)
    draft = data(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"publish": False, "closingDate": "2031-09-02T00:00:00Z"}},
    )["updateOfferEvent"]["offerEvent"]
    assert (draft["publish"], draft["closingDate"]) == (False, "2031-09-02T00:00:00+00:00")

    # When the published event with an attendee is cancelled
    data(component_stack, key, UPDATE, {"id": created["id"], "input": {"publish": True}})
    enroll(component_stack, key, str(created["id"]), "ada")
    component_stack.drain()
    mails_before = component_stack.sink.per_recipient()["ada@example.org"]
    cancelled = data(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"cancelled": True}, "notify": True},
    )["updateOfferEvent"]["offerEvent"]
    component_stack.drain()

    # Then it is cancelled, the attendee is mailed by REST's job, and it is not undone
    assert cancelled["cancelled"] is True
    assert component_stack.sink.per_recipient()["ada@example.org"] == mails_before + 1
    assert "cancel" in str(component_stack.sink.messages[-1]["Subject"]).lower()
    refusal(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"cancelled": False}},
        code="EVENT_CANCELLED",
    )
    unchanged = data(
        component_stack, key, UPDATE, {"id": created["id"], "input": {"cancelled": True}}
    )
    assert unchanged["updateOfferEvent"]["offerEvent"]["cancelled"] is True


def test_delete_copy_and_trainers(component_stack: Stack) -> None:
    key = component_stack.key()
    _offer(component_stack, key)
    created = _create(component_stack, key)
    ada = make_attendee(component_stack, "ada")
    make_attendee(component_stack, "bob")

    # Trainers by id and by ref, removed again
    add = """mutation($id: UUID, $ids: [UUID!], $refs: [String!]) {
      addTrainersToOfferEvent(offerEventId: $id, ids: $ids, refs: $refs) {
        offerEvent { trainers { id ref } } } }"""
    trainers = data(component_stack, key, add, {"id": created["id"], "ids": [ada], "refs": ["bob"]})
    assert [t["ref"] for t in trainers["addTrainersToOfferEvent"]["offerEvent"]["trainers"]] == [
        "ada",
        "bob",
    ]
    remove = """mutation { removeTrainersFromOfferEvent(offerEventRef: "event-sept-2031",
      refs: ["ada"]) { offerEvent { trainers { ref } } } }"""
    left = data(component_stack, key, remove)["removeTrainersFromOfferEvent"]["offerEvent"]
    assert left["trainers"] == [{"ref": "bob"}]
    assert [
        t["ref"]
        for t in ok(call(component_stack, key, "GET", "/v1/events/event-sept-2031/trainers"))
    ] == ["bob"]
    refusal(
        component_stack,
        key,
        """mutation { addTrainersToOfferEvent(offerEventRef: "event-sept-2031", refs: ["zed"])
        { offerEvent { id } } }""",
        code="ATTENDEE_NOT_FOUND",
    )

    # Copy: a new draft with the same dates and title, no ref
    copy = data(
        component_stack,
        key,
        """mutation($id: UUID!) {
          copyOfferEvent(id: $id) { offerEvent { id ref title dates { startDate } } } }""",
        {"id": created["id"]},
    )["copyOfferEvent"]["offerEvent"]
    assert copy["id"] != created["id"] and copy["ref"] is None
    assert copy["title"] == created["title"]
    assert [d["startDate"] for d in copy["dates"]] == [d["startDate"] for d in created["dates"]]

    # Delete (the seed's example): ok, then it is not found
    deleted = data(
        component_stack, key, f'mutation {{ deleteOfferEvent(id: "{copy["id"]}") {{ ok }} }}'
    )
    assert deleted == {"deleteOfferEvent": {"ok": True}}
    refusal(
        component_stack,
        key,
        f'query {{ offerEvent(id: "{copy["id"]}") {{ id }} }}',
        code="EVENT_NOT_FOUND",
    )


def test_refusals_carry_rest_codes(component_stack: Stack) -> None:
    key = component_stack.key()
    _offer(component_stack, key)
    created = _create(component_stack, key)

    # The domain's rules: a ref taken, min above max, an offer not there
    refusal(
        component_stack,
        key,
        CREATE,
        {"offerRef": "onb", "input": {"type": "TRAINING", "title": "x", "ref": "event-sept-2031"}},
        code="EVENT_REF_TAKEN",
    )
    refusal(
        component_stack,
        key,
        CREATE,
        {
            "offerRef": "onb",
            "input": {
                "type": "TRAINING",
                "title": "x",
                "minSubscriptions": 5,
                "maxSubscriptions": 2,
            },
        },
        code="MIN_ABOVE_MAX",
    )
    refusal(
        component_stack,
        key,
        CREATE,
        {"offerRef": "nope", "input": {"type": "TRAINING", "title": "x"}},
        code="OFFER_NOT_FOUND",
    )
    # REST's request model: no title, dates the wrong way round, a negative capacity
    error = refusal(
        component_stack, key, CREATE, {"input": {"type": "TRAINING"}}, code="VALIDATION_ERROR"
    )
    assert error["message"].startswith("title:")
    bad_dates = [{"startDate": "2031-09-12T12:00:00Z", "endDate": "2031-09-12T09:00:00Z"}]
    refusal(
        component_stack,
        key,
        CREATE,
        {"input": {"type": "TRAINING", "title": "x", "dates": bad_dates}},
        code="VALIDATION_ERROR",
    )
    refusal(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"maxSubscriptions": -1}},
        code="VALIDATION_ERROR",
    )
    refusal(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "ref": "event-sept-2031", "input": {}},
        code="VALIDATION_ERROR",
    )
    # A capacity below the seats taken, as PATCH refuses it
    data(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"publish": True, "maxSubscriptions": 1}},
    )
    enroll(component_stack, key, str(created["id"]), "ada")
    component_stack.drain()
    refusal(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"maxSubscriptions": 0}},
        code="CAPACITY_BELOW_ENROLLED",
    )
    refusal(
        component_stack,
        key,
        f'mutation {{ deleteOfferEvent(id: "{created["id"]}") {{ ok }} }}',
        code="EVENT_IS_PUBLISHED",
    )


def test_scopes_and_organisations_are_restful(component_stack: Stack) -> None:
    key = component_stack.key()
    _offer(component_stack, key)
    created = _create(component_stack, key)
    query = f'query {{ offerEvent(id: "{created["id"]}") {{ id }} }}'
    reader = component_stack.key(scopes=["events:read"])
    student = component_stack.key(scopes=["students:write"])
    other = component_stack.key(org="globex")

    # A reader reads, but does not write
    assert data(component_stack, reader, query)["offerEvent"]["id"] == created["id"]
    refusal(
        component_stack,
        reader,
        UPDATE,
        {"id": created["id"], "input": {"title": "x"}},
        code="INSUFFICIENT_SCOPE",
    )
    refusal(component_stack, student, query, code="INSUFFICIENT_SCOPE")
    # No key, a wrong key
    refusal(component_stack, None, query, code="INVALID_API_KEY")
    refusal(component_stack, "rc_nope", query, code="INVALID_API_KEY")
    # Another organisation's event and offer are not found, by id or ref, for reads and writes
    refusal(component_stack, other, query, code="EVENT_NOT_FOUND")
    refusal(component_stack, other, 'query { offer(ref: "onb") { id } }', code="OFFER_NOT_FOUND")
    refusal(
        component_stack,
        other,
        UPDATE,
        {"ref": "event-sept-2031", "input": {"title": "x"}},
        code="EVENT_NOT_FOUND",
    )
    refusal(
        component_stack,
        other,
        CREATE,
        {"offerRef": "onb", "input": {"type": "TRAINING", "title": "x"}},
        code="OFFER_NOT_FOUND",
    )
    assert (
        ok(call(component_stack, key, "GET", f"/v1/events/{created['id']}"))["name"]
        == created["title"]
    )


def test_each_root_field_fails_alone(component_stack: Stack) -> None:
    # Given one event found and one not, in one document
    key = component_stack.key()
    _offer(component_stack, key)
    _create(component_stack, key)
    body = post(
        component_stack,
        key,
        'query { a: offerEvent(ref: "event-sept-2031") { ref } '
        'b: offerEvent(ref: "nope") { ref } }',
    )
    # Then the found one is in data, the other is null with its error
    assert body["data"] == {"a": {"ref": "event-sept-2031"}, "b": None}
    assert [e["extensions"]["error"]["code"] for e in body["errors"]] == ["EVENT_NOT_FOUND"]
    assert body["errors"][0]["path"] == ["b"]


def _published_with_ada(stack: Stack, key: str) -> dict[str, object]:
    """A published offer event with ada enrolled and her confirmation sent."""
    _offer(stack, key)
    created = _create(stack, key)
    data(stack, key, UPDATE, {"id": created["id"], "input": {"publish": True}})
    enroll(stack, key, str(created["id"]), "ada")
    stack.drain()
    return created


def test_send_notification_false_cancels_quietly(component_stack: Stack) -> None:
    # Given a published event with an attendee who has had their confirmation
    key = component_stack.key()
    created = _published_with_ada(component_stack, key)
    mails_before = len(component_stack.sink.messages)

    # When it is cancelled with sendNotification: false (seed 000)
    cancelled = data(
        component_stack,
        key,
        UPDATE,
        {"id": created["id"], "input": {"cancelled": True}, "notify": False},
    )["updateOfferEvent"]["offerEvent"]
    component_stack.drain()

    # Then it is cancelled, and nobody is mailed: no notification job either
    assert cancelled["cancelled"] is True
    assert len(component_stack.sink.messages) == mails_before
    with component_stack.db() as session:
        kinds = set(session.scalars(select(Job.type)))
    assert "notify_cancellation" not in kinds and "enroll" in kinds, kinds


def test_a_graphql_cancel_leaves_its_notice_to_the_relay_when_told_to(
    component_stack: Stack,
) -> None:
    """ENQUEUE_ON_COMMIT holds on every edge, GraphQL's as REST's: off, the
    intake only commits, and the scheduler's relay alone sends the notice."""
    # Given a published event with an attendee, and enqueue-on-commit off
    key = component_stack.key()
    created = _published_with_ada(component_stack, key)
    mails_before = len(component_stack.sink.messages)
    component_stack.settings.enqueue_on_commit = False

    # When it is cancelled through GraphQL, with notice
    data(component_stack, key, UPDATE, {"id": created["id"], "input": {"cancelled": True}})
    component_stack.drain()

    # Then the notice's job waits in the outbox, unsent, and nobody is mailed yet
    with component_stack.db() as session:
        unsent = session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
        assert len(list(unsent)) >= 1
    assert len(component_stack.sink.messages) == mails_before

    # And the relay sends it: the cancellation mail then arrives
    sent = relay(
        component_stack.sessions,
        component_stack.broker,
        now=utcnow() + timedelta(minutes=5),
        older_than_seconds=0,
    )
    component_stack.drain()
    assert sent >= 1
    assert len(component_stack.sink.messages) == mails_before + 1
