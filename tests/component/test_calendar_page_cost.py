"""What a calendar page costs, counted rather than timed: its SQL statements
over REST, and the fields GraphQL resolves one by one; and that GraphQL's
completion from plain data (intake.graphql.projection) answers exactly what
the typed completion answers, for any selection."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from rollcall.intake.graphql import projection
from tests.support.calendar import BASE, add_attendee, add_event, calendar, issue_token, org_id
from tests.support.factories import enroll, published_event
from tests.support.graphql import data, post
from tests.support.stack import Stack
from tests.support.statements import counting

FROM = "2030-01-01T00:00:00Z"
EVERY_FIELD = """query($first: Int, $after: String) {
  getCalendarEvents(fromDate: "2030-01-01T00:00:00Z", first: $first, after: $after) {
  edges { cursor node { id eventId eventRef type title timezone
    startsAt { utc local timezone } endsAt { utc local timezone } eventStatus cancelled
    personal enrollmentId enrollmentStatus trainer bookmarked capacity spotsAvailable
    ctas { action method href body scope bookmarked } } }
  pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""
#: Aliases, a named and an inline fragment, @include/@skip and __typename.
ODD_SELECTION = """
fragment Times on CalendarEvent { startsAt { ...on LocalTime { utc } zone: timezone } }
query($yes: Boolean!, $no: Boolean!) {
  page: getCalendarEvents(fromDate: "2030-01-01T00:00:00Z", first: 30) {
    __typename
    edges { at: cursor node { __typename ...Times key: id id title @include(if: $yes)
      spotsAvailable @skip(if: $yes) personal @include(if: $no)
      ctas { __typename action href } ctas { body } } }
    info: pageInfo { endCursor e2: endCursor hasNextPage } }
  again: getCalendarEvents(fromDate: "2030-01-01T00:00:00Z", last: 2) {
    edges { node { id } } pageInfo { hasPreviousPage } } }"""


@pytest.fixture
def ada(component_stack: Stack) -> tuple[str, str]:
    """ada's end-user token over 60 public dates of a training and a webinar of
    her own (enrolled): public and personal entries, REGISTER and CANCEL CTAs."""
    key = component_stack.key()
    published_event(
        component_stack,
        key,
        ref="own",
        type="WEBINAR",
        max_subscriptions=5,
        starts_at="2031-02-01T09:00:00Z",
        ends_at="2031-02-01T10:00:00Z",
    )
    with component_stack.db() as session:
        org = org_id(session)
        add_attendee(session, org, "ada")
        add_event(
            session, org, name="Series", starts=[BASE + timedelta(hours=i) for i in range(60)]
        )
    enroll(component_stack, key, "own", "ada")
    component_stack.drain()
    return key, issue_token(component_stack, key, "ada")


def test_a_rest_page_is_the_token_lookup_and_one_window_statement(
    component_stack: Stack, ada: tuple[str, str]
) -> None:
    _key, token = ada
    assert calendar(component_stack, token, first=50).status_code == 200  # warm

    # When a page of 50 is read, first and after a cursor
    with counting(component_stack) as first:
        body = calendar(component_stack, token, first=50).json()
    with counting(component_stack) as next_page:
        after = body["page_info"]["end_cursor"]
        assert len(calendar(component_stack, token, first=50, after=after).json()["entries"])

    # Then each costs two statements: the token, then the window with the
    # events' live columns (their spans included: no read per event kind)
    assert len(first) == 2, first
    assert len(next_page) == 2, next_page


def test_a_graphql_page_resolves_its_nodes_from_plain_data(
    component_stack: Stack, ada: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, token = ada
    built: list[str] = []
    real = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def spy(self: Any, field_def: Any, field_nodes: Any, *args: Any) -> Any:
        built.append(field_nodes[0].name.value)
        return real(self, field_def, field_nodes, *args)

    monkeypatch.setattr(StrawberryGraphQLCoreExecutionContext, "build_resolve_info", spy)

    # When a page of 50 with every field is asked
    page = data(component_stack, token, EVERY_FIELD, {"first": 50})["getCalendarEvents"]

    # Then only the root field was resolved: none of the 50 nodes' fields
    assert len(page["edges"]) == 50
    assert built == ["getCalendarEvents"]


def _typed_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """graphql-core's own completion, field by field, for every Projected."""

    def refuse(*_args: Any) -> Any:
        raise projection._Fallback()

    monkeypatch.setattr(projection.ProjectingExecutionContext, "_project", refuse)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (EVERY_FIELD, {"first": 50}),
        (EVERY_FIELD, {"first": 7, "after": None}),
        (ODD_SELECTION, {"yes": True, "no": False}),
        (ODD_SELECTION, {"yes": False, "no": True}),
    ],
)
def test_the_plain_completion_answers_what_the_typed_one_does(
    component_stack: Stack,
    ada: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    query: str,
    variables: dict[str, Any],
) -> None:
    _key, token = ada

    # When the same document is answered from plain data and field by field
    projected = post(component_stack, token, query, variables)
    _typed_only(monkeypatch)
    typed = post(component_stack, token, query, variables)

    # Then the answers are the same, key order included
    assert "errors" not in projected, projected
    assert list(projected["data"]) == list(typed["data"])
    assert projected == typed


def test_a_page_after_a_cursor_is_the_same_both_ways(
    component_stack: Stack, ada: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, token = ada
    first = data(component_stack, token, EVERY_FIELD, {"first": 20})["getCalendarEvents"]
    after = {"first": 20, "after": first["pageInfo"]["endCursor"]}

    projected = post(component_stack, token, EVERY_FIELD, after)
    _typed_only(monkeypatch)
    assert projected == post(component_stack, token, EVERY_FIELD, after)
    assert projected["data"]["getCalendarEvents"]["pageInfo"]["hasPreviousPage"] is True


def test_a_selection_under_a_variable_directive_follows_each_requests_variables(
    component_stack: Stack, ada: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, token = ada
    flips = [{"yes": True, "no": False}, {"yes": False, "no": True}, {"yes": True, "no": True}]

    # When one document is answered from plain data under each of its variables
    # in turn (the compiled selections of the first kept across requests)
    projected = [post(component_stack, token, ODD_SELECTION, flip) for flip in flips]
    _typed_only(monkeypatch)
    typed = [post(component_stack, token, ODD_SELECTION, flip) for flip in flips]

    # Then each answer has the fields its own variables select
    assert projected == typed
    node = projected[1]["data"]["page"]["edges"][0]["node"]
    assert "title" not in node and "spotsAvailable" in node and "personal" in node


def test_a_document_seen_before_is_completed_without_collecting_its_fields_again(
    component_stack: Stack, ada: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _key, token = ada
    collected: list[str] = []
    real = projection.ProjectingExecutionContext.collect_subfields

    def spy(self: Any, return_type: Any, field_details: Any) -> Any:
        collected.append(return_type.name)
        return real(self, return_type, field_details)

    monkeypatch.setattr(projection.ProjectingExecutionContext, "collect_subfields", spy)
    # A document of its own: no other test has compiled its selections
    query = EVERY_FIELD.replace("query(", "query Fresh(")

    # When the same document is answered twice
    first = post(component_stack, token, query, {"first": 50})
    compiled = list(collected)
    collected.clear()
    second = post(component_stack, token, query, {"first": 50})

    # Then the first compiled its selections once each, the second none
    assert first == second and "errors" not in first
    assert sorted(compiled) == sorted(
        [
            "CalendarEventConnection",
            "CalendarEventEdge",
            "CalendarEvent",
            "LocalTime",
            "LocalTime",
            "CallToAction",
            "PageInfo",
        ]
    )
    assert collected == []
