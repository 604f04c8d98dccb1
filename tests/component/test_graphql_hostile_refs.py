"""A ref argument is checked as REST checks its id-or-ref path parameter: a
lone surrogate, a control character or 201 characters are VALIDATION_ERROR
naming the argument (a lone surrogate reached the database and failed there,
INTERNAL_ERROR, before)."""

from __future__ import annotations

import json

import pytest

from tests.support.stack import Stack

OFFER_EVENT = "query($r: String) { offerEvent(ref: $r) { id } }"
OFFER = "query($r: String) { offer(ref: $r) { id } }"
UPDATE = """mutation($r: String) { updateOfferEvent(ref: $r, offerEvent: {title: "x"}) {
  offerEvent { id } } }"""
TRAINERS = """mutation($r: String) { addTrainersToOfferEvent(offerEventRef: $r, refs: []) {
  offerEvent { id } } }"""
EDIT_NAME = """mutation($r: ID!) { editName(input: {eventId: $r, name: "x"}) { success } }"""

#: JSON texts (a lone surrogate only exists escaped in JSON).
HOSTILE = {"surrogate": '"a\\ud800b"', "nul": '"a\\u0000b"', "too-long": json.dumps("x" * 201)}


@pytest.mark.parametrize("value", list(HOSTILE))
@pytest.mark.parametrize(
    ("query", "argument"),
    [
        (OFFER_EVENT, "ref"),
        (OFFER, "ref"),
        (UPDATE, "ref"),
        (TRAINERS, "offerEventRef"),
        (EDIT_NAME, "eventId"),
    ],
)
def test_a_hostile_ref_is_refused_as_rest_refuses_it(
    component_stack: Stack, query: str, argument: str, value: str
) -> None:
    key = component_stack.key()
    raw = '{"query": ' + json.dumps(query) + ', "variables": {"r": ' + HOSTILE[value] + "}}"
    response = component_stack.client.post(
        "/graphql",
        content=raw.encode(),
        headers=component_stack.auth(key) | {"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    [error] = response.json()["errors"]
    assert error["extensions"]["error"]["code"] == "VALIDATION_ERROR", error
    assert error["message"].startswith(f"{argument}: "), error
