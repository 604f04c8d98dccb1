"""``offer { offerEvents { dates trainers ... } }`` costs the same number of SQL
statements for 10 events as for 100 (DataLoaders: one read per kind of row)."""

from __future__ import annotations

from datetime import timedelta

from rollcall.domain.access.keys import get_or_create_organisation
from rollcall.domain.clock import utcnow
from rollcall.domain.events.catalog import create_event
from rollcall.domain.events.offers import create_offer
from rollcall.domain.events.trainers import add_trainers
from tests.support.event_helpers import make_attendee
from tests.support.graphql import data
from tests.support.stack import Stack
from tests.support.statements import counting

QUERY = """query($ref: String) { offer(ref: $ref) { id title offerEvents {
  id title ref type enrolledCount spotsAvailable publish accessTrainings { id }
  dates { id startDate endDate } trainers { id ref name } } } }"""


def _offer_with_events(stack: Stack, ref: str, events: int) -> None:
    """An offer of ``events`` events, each with two dates and two trainers."""
    start = utcnow().replace(microsecond=0) + timedelta(days=30)
    with stack.db() as session:
        org = get_or_create_organisation(session, name="acme", now=utcnow())
        offer = create_offer(
            session, organisation_id=org.id, fields={"title": ref, "ref": ref}, now=utcnow()
        )
        for n in range(events):
            created = create_event(
                session,
                organisation_id=org.id,
                fields={"name": f"E{n}", "type": "TRAINING", "offer_id": offer.id},
                dates=[
                    (start + timedelta(days=n), start + timedelta(days=n, hours=1)),
                    (start + timedelta(days=n + 7), start + timedelta(days=n + 7, hours=1)),
                ],
                now=utcnow(),
            )
            add_trainers(session, event=created, ids=[], refs=["ada", "bob"])


def test_offer_events_with_dates_and_trainers_cost_constant_statements(
    component_stack: Stack,
) -> None:
    check_constant_statements(component_stack)


def check_constant_statements(stack: Stack) -> None:
    """The test's body, also run on PostgreSQL (tests/integration)."""
    # Given an offer of 10 events and one of 100, each with dates and trainers
    key = stack.key()
    make_attendee(stack, "ada")
    make_attendee(stack, "bob")
    _offer_with_events(stack, "small", 10)
    _offer_with_events(stack, "large", 100)
    data(stack, key, QUERY, {"ref": "small"})  # warm: the key's first use

    # When each is read with its events' dates and trainers
    with counting(stack) as small:
        few = data(stack, key, QUERY, {"ref": "small"})["offer"]["offerEvents"]
    with counting(stack) as large:
        many = data(stack, key, QUERY, {"ref": "large"})["offer"]["offerEvents"]

    # Then all of it is there, for the same number of statements
    assert (len(few), len(many)) == (10, 100)
    assert all(len(e["dates"]) == 2 and len(e["trainers"]) == 2 for e in many)
    assert len(large) == len(small), large
    # authentication, the offer, its events, their dates, their trainers
    assert len(large) <= 6, large
