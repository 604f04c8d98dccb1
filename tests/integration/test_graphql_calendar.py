"""Seed 004's ``getCalendarEvents`` over GraphQL on PostgreSQL, with the ``gql``
client against uvicorn: the same entries, CTAs and cursors as ``GET /v1/calendar``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from gql import Client

from rollcall.intake.graphql.calendar import CalendarEventType
from rollcall.models.events import EVENT_TYPES
from tests.support.calendar import BASE, add_attendee, add_event, calendar, issue_token, org_id
from tests.support.factories import enroll, published_event
from tests.support.gql_client import gql_client, refused, run
from tests.support.stack import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PAGE = """
query Page($from: DateTime!, $first: Int, $after: String, $last: Int, $before: String,
           $type: [CalendarEventType!]) {
  getCalendarEvents(fromDate: $from, first: $first, after: $after, last: $last,
                    before: $before, type: $type) {
    edges {
      cursor
      node {
        id eventId eventRef type title personal enrollmentStatus spotsAvailable
        startsAt { utc local timezone }
        ctas { action method href body scope bookmarked }
      }
    }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

FROM = "2030-01-01T00:00:00Z"


def page(client: Client, **arguments: Any) -> dict[str, Any]:
    return dict(run(client, PAGE, **({"from": FROM} | arguments))["getCalendarEvents"])


@pytest.fixture
def ada(real_stack: Stack) -> tuple[str, str]:
    """An API key and ada's end-user token; ada enrolled on one webinar, and 45
    public dates of a training."""
    key = real_stack.key()
    published_event(
        real_stack,
        key,
        ref="gql-cal",
        type="WEBINAR",
        max_subscriptions=5,
        starts_at="2031-02-01T09:00:00Z",
        ends_at="2031-02-01T10:00:00Z",
    )
    with real_stack.db() as session:
        org = org_id(session)
        add_attendee(session, org, "ada")
        add_event(
            session, org, name="Series", starts=[BASE + timedelta(hours=i) for i in range(45)]
        )
    enroll(real_stack, key, "gql-cal", "ada")
    real_stack.drain()
    return key, issue_token(real_stack, key, "ada")


def test_the_connection_is_the_rest_calendar(real_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    client = gql_client(real_stack, token)

    # When the first page is asked over GraphQL and over REST
    first = page(client, first=10)
    rest = calendar(real_stack, token, fromDate=FROM, first=10).json()

    # Then both show the same entries, with the same cursors and CTAs
    nodes = [edge["node"] for edge in first["edges"]]
    assert [node["id"] for node in nodes] == [entry["id"] for entry in rest["entries"]]
    assert [edge["cursor"] for edge in first["edges"]] == [e["cursor"] for e in rest["entries"]]
    mine = nodes[0]
    assert (mine["eventRef"], mine["personal"], mine["enrollmentStatus"]) == (
        "gql-cal",
        True,
        "enrolled",
    )
    for node, entry in zip(nodes, rest["entries"], strict=True):
        assert node["ctas"] == [
            {
                "action": c["action"],
                "method": c["method"],
                "href": c["href"],
                "body": c["body"],
                "scope": c["scope"],
                "bookmarked": c["bookmarked"],
            }
            for c in entry["ctas"]
        ]
    assert [cta["action"] for cta in mine["ctas"]] == ["CANCEL_REGISTRATION", "TOGGLE_BOOKMARK"]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": rest["page_info"]["start_cursor"],
        "endCursor": rest["page_info"]["end_cursor"],
    }


def test_pages_forward_and_back_without_gaps_or_repeats(
    real_stack: Stack, ada: tuple[str, str]
) -> None:
    _key, token = ada
    client = gql_client(real_stack, token)

    # Forward, 10 at a time, to the end
    forward: list[str] = []
    info: dict[str, Any] = {"hasNextPage": True, "endCursor": None}
    while info["hasNextPage"]:
        body = page(client, first=10, after=info["endCursor"])
        forward += [edge["node"]["id"] for edge in body["edges"]]
        info = body["pageInfo"]
    assert len(forward) == len(set(forward)) == 46
    assert info["hasPreviousPage"] is True

    # Back from the end, 7 at a time, to the start
    backward: list[str] = []
    info = {"hasPreviousPage": True, "startCursor": info["endCursor"]}
    backward = [forward[-1]]
    while info["hasPreviousPage"]:
        body = page(client, last=7, before=info["startCursor"])
        backward = [edge["node"]["id"] for edge in body["edges"]] + backward
        info = body["pageInfo"]
    assert backward == forward

    # And a REST cursor pages GraphQL on (one codec)
    rest = calendar(real_stack, token, fromDate=FROM, first=10).json()
    body = page(client, first=10, after=rest["page_info"]["end_cursor"])
    assert [edge["node"]["id"] for edge in body["edges"]] == forward[10:20]


def test_type_filter_takes_one_type_or_a_list(real_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    client = gql_client(real_stack, token)
    inline = run(
        client,
        '{ getCalendarEvents(fromDate: "2030-01-01", type: WEBINAR, first: 100)'
        " { edges { node { type } } } }",
    )["getCalendarEvents"]
    assert {edge["node"]["type"] for edge in inline["edges"]} == {"WEBINAR"}
    assert len(inline["edges"]) == 1
    both = page(client, first=100, type=["WEBINAR", "TRAINING"])
    assert len(both["edges"]) == 46
    none = page(client, first=100, type=["VIDEO"])
    assert none["edges"] == []


def test_seed_004_errors_keep_their_codes(real_stack: Stack, ada: tuple[str, str]) -> None:
    _key, token = ada
    client = gql_client(real_stack, token)
    cases = [
        ({"first": 5, "last": 5}, "CONFLICTING_PAGINATION"),
        ({"after": "x"}, "AFTER_WITHOUT_FIRST"),
        ({"first": 5, "after": "not-a-cursor"}, "INVALID_CURSOR"),
        ({"first": 0}, "INVALID_PAGE_SIZE"),
        ({"from": "1900-01-01T00:00:00Z"}, "INVALID_DATE"),
    ]
    for arguments, code in cases:
        error = refused(client, PAGE, **({"from": FROM} | arguments))
        assert error["code"] == code, (arguments, error)
    wrong_range = refused(
        client,
        '{ getCalendarEvents(fromDate: "2031-01-02", toDate: "2031-01-01") { pageInfo'
        " { hasNextPage } } }",
    )
    assert wrong_range["code"] == "INVALID_DATE_RANGE"
    # A value that is no DateTime at all is refused by the schema, with a code
    not_a_date = refused(client, PAGE, **{"from": "yesterday"})
    assert not_a_date["code"] == "GRAPHQL_INVALID_QUERY", not_a_date


def test_only_the_end_users_token_may_ask(real_stack: Stack, ada: tuple[str, str]) -> None:
    key, _token = ada
    by_key = refused(gql_client(real_stack, key), PAGE, **{"from": FROM})
    assert by_key["code"] == "INSUFFICIENT_SCOPE"
    by_bad_token = refused(gql_client(real_stack, "rct_nonsense"), PAGE, **{"from": FROM})
    assert by_bad_token["code"] == "INVALID_TOKEN"


def test_the_enum_is_the_models_event_types() -> None:
    assert tuple(member.value for member in CalendarEventType) == EVENT_TYPES
