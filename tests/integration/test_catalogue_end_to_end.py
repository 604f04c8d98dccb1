"""The catalogue on PostgreSQL over HTTP: the scenarios of
tests/support/catalogue_scenarios.py with full-text search, and the plan that
shows the search uses the GIN index of migration 0088."""

from __future__ import annotations

import uuid

from sqlalchemy import insert, select, text

from rollcall.domain.clock import utcnow
from rollcall.domain.events.listing import catalogue_query
from rollcall.models import Event, Organisation
from tests.support import catalogue_scenarios
from tests.support.stack import Stack


def test_filters_and_pages(real_stack: Stack) -> None:
    catalogue_scenarios.filters_and_pages(real_stack)


def test_labels_follow_patch_and_copy(real_stack: Stack) -> None:
    catalogue_scenarios.labels_follow_patch_and_copy(real_stack)


def test_web_search_syntax_and_hostile_text(real_stack: Stack) -> None:
    key = catalogue_scenarios.seed_catalogue(real_stack)
    refs = catalogue_scenarios.refs
    # websearch_to_tsquery: quotes for a phrase, "or", "-word"; never a syntax error
    assert refs(real_stack, key, q='"intro to python"') == ["python"]
    assert refs(real_stack, key, q="python or palettes") == ["python", "colour"]
    assert refs(real_stack, key, q="basics -python") == []
    for odd in ["&", "!!", "(", "':*", "\\", "'; DROP TABLE events; --", "é ü ß", "🙂"]:
        assert refs(real_stack, key, q=odd) == []


def test_the_text_search_uses_the_gin_index(real_stack: Stack) -> None:
    # Given an organisation with 3,000 listed events, one of them about Python
    real_stack.key()
    now = utcnow()
    with real_stack.db() as session:
        org = session.scalars(select(Organisation.id).where(Organisation.name == "acme")).one()
        rows = [
            {
                "id": uuid.uuid4(), "organisation_id": org, "name": f"Event {i}",
                "description": "python" if i == 1234 else f"filler words number {i}",
                "status": "published", "listed": True, "cancelled": False, "type": "TRAINING",
                "timezone": "UTC", "created_at": now, "updated_at": now,
            }
            for i in range(3000)
        ]  # fmt: skip
        session.execute(insert(Event), rows)
    with real_stack.db() as session:
        session.execute(text("ANALYZE events"))
    # When the catalogue searches for the rare word, then the plan reads the GIN index
    statement = catalogue_query("postgresql", organisation_id=org, text="python", limit=51)
    with real_stack.db() as session:
        connection = session.connection()
        compiled = statement.compile(dialect=connection.dialect)
        plan = "\n".join(
            row[0] for row in connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params)
        )
        found = session.scalars(statement).all()
    assert "ix_events_search" in plan, plan
    assert [event.description for event in found] == ["python"]
