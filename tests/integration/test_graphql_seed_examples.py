"""Seed 000's GraphQL examples, verbatim (only the ids substituted), sent by a
real GraphQL client (gql over aiohttp) to uvicorn on PostgreSQL; and the
no-N+1 check of tests/component on PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

from gql import Client, gql
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.exceptions import TransportQueryError

from tests.component.test_graphql_no_n_plus_one import check_constant_statements
from tests.support.event_helpers import call, ok
from tests.support.stack import Stack

# Copied verbatim from seeds/000 ("uuid-here", "uuid-of-offer" and
# "uuid-of-training" are the seed's own placeholders, substituted below).
SEED_OFFER_EVENT = """query {
offerEvent(id: "uuid-here") {
id
title
ref
type
dates {
id
startDate
endDate
}
maxSubscriptions
enrolledCount
spotsAvailable
}
}"""
SEED_OFFER = """query {
offer(id: "uuid-here") {
offerEvents {
id
title
ref
type
enrolledCount
}
}
}"""
SEED_CREATE = """mutation {
createOfferEvent(
offerId: "uuid-of-offer"
offerEvent: {
title: "Starting Moment September"
ref: "event-sept-2024"
type: TRAINING
accessTrainings: ["uuid-of-training"]
maxSubscriptions: 25
dates: [
{
startDate: "2025-09-12T09:00:00Z"
endDate: "2025-09-12T12:00:00Z"
},
{
startDate: "2025-09-19T09:00:00Z"
endDate: "2025-09-19T12:00:00Z"
}
]
}
) {
offerEvent {
id
title
ref
dates { id startDate endDate }
}
}
}"""
SEED_UPDATE = """mutation {
updateOfferEvent(
ref: "event-sept-2024"
offerEvent: {
title: "New title"
maxSubscriptions: 30
}
) {
offerEvent {
id
title
}
}
}"""
SEED_DELETE = """mutation {
deleteOfferEvent(id: "uuid-here") {
ok
}
}"""


def _client(stack: Stack, key: str) -> Client:
    url = f"{stack.extra['server'].url}/graphql"
    transport = AIOHTTPTransport(url=url, headers={"Authorization": f"Bearer {key}"})
    return Client(transport=transport, fetch_schema_from_transport=True)


def _run(client: Client, document: str, **ids: str) -> dict[str, Any]:
    for placeholder, value in ids.items():
        document = document.replace(placeholder, value)
    result: dict[str, Any] = client.execute(gql(document))
    return result


def test_the_seed_examples_run_verbatim_with_a_graphql_client(real_stack: Stack) -> None:
    # Given an offer (made over REST: the seed has no mutation for it)
    key = real_stack.key()
    offer = ok(call(real_stack, key, "POST", "/v1/offers", json={"title": "Starting moments"}), 201)
    training = str(uuid.uuid4())
    client = _client(real_stack, key)

    # When the seed's createOfferEvent runs
    created = _run(
        client, SEED_CREATE, **{"uuid-of-offer": offer["id"], "uuid-of-training": training}
    )
    event = created["createOfferEvent"]["offerEvent"]
    assert (event["title"], event["ref"]) == ("Starting Moment September", "event-sept-2024")
    assert [d["startDate"] for d in event["dates"]] == [
        "2025-09-12T09:00:00+00:00",
        "2025-09-19T09:00:00+00:00",
    ]

    # Then the seed's queries read it, as REST does
    read = _run(client, SEED_OFFER_EVENT, **{"uuid-here": event["id"]})["offerEvent"]
    rest = ok(call(real_stack, key, "GET", f"/v1/events/{event['id']}"))
    assert read == {
        "id": event["id"],
        "title": rest["name"],
        "ref": rest["ref"],
        "type": "TRAINING",
        "dates": event["dates"],
        "maxSubscriptions": 25,
        "enrolledCount": 0,
        "spotsAvailable": 25,
    }
    assert rest["access_trainings"] == [training]
    listed = _run(client, SEED_OFFER, **{"uuid-here": offer["id"]})["offer"]["offerEvents"]
    assert listed == [
        {
            "id": event["id"],
            "title": "Starting Moment September",
            "ref": "event-sept-2024",
            "type": "TRAINING",
            "enrolledCount": 0,
        }
    ]

    # And the seed's update by ref changes what REST shows
    updated = _run(client, SEED_UPDATE)["updateOfferEvent"]["offerEvent"]
    assert updated == {"id": event["id"], "title": "New title"}
    rest = ok(call(real_stack, key, "GET", "/v1/events/event-sept-2024"))
    assert (rest["name"], rest["max_subscriptions"]) == ("New title", 30)

    # And the seed's delete removes it; a second delete is EVENT_NOT_FOUND
    assert _run(client, SEED_DELETE, **{"uuid-here": event["id"]}) == {
        "deleteOfferEvent": {"ok": True}
    }
    assert call(real_stack, key, "GET", f"/v1/events/{event['id']}").status_code == 404
    try:
        _run(client, SEED_DELETE, **{"uuid-here": event["id"]})
    except TransportQueryError as exc:
        assert exc.errors is not None
        assert exc.errors[0]["extensions"]["error"]["code"] == "EVENT_NOT_FOUND"
    else:  # pragma: no cover
        raise AssertionError("a second delete must be refused")


def test_offer_events_cost_constant_statements_on_postgres(real_stack: Stack) -> None:
    check_constant_statements(real_stack)
