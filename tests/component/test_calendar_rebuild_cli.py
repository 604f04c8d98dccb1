"""``rollcall calendar rebuild`` repairs a cache that drifted (or was wiped)."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import delete, func, select, update

from rollcall.cli import main
from rollcall.domain.calendar.cache import expected_snapshot, snapshot
from rollcall.models import CalendarEntry, Event
from rollcall.scheduler import producers
from rollcall.scheduler.main import PRODUCERS
from tests.support.calendar import BASE, add_attendee, add_enrollment, add_event, org_id
from tests.support.stack import Stack


def test_rebuild_command_restores_the_cache(component_stack: Stack) -> None:
    # Given a calendar, then a Core bulk write the flush listener cannot see
    component_stack.key()
    with component_stack.db() as session:
        org = org_id(session)
        ada = add_attendee(session, org, "ada")
        event = add_event(session, org, starts=[BASE + timedelta(days=i) for i in range(30)])
        add_enrollment(session, event, ada)
        expected = expected_snapshot(session.connection())
    with component_stack.db() as session:
        session.execute(update(Event).values(name="Renamed behind the ORM's back"))
        session.execute(delete(CalendarEntry).where(CalendarEntry.attendee_id.is_not(None)))
        drifted = snapshot(session.connection())
        expected = expected_snapshot(session.connection())
    assert drifted != expected

    # When the operator rebuilds
    result = CliRunner().invoke(main, ["calendar", "rebuild", "--batch-size", "1"])

    # Then the cache is exactly what the source tables say
    assert result.exit_code == 0, result.output
    assert "calendar rebuilt: 60 entries" in result.output
    with component_stack.db() as session:
        assert snapshot(session.connection()) == expected
        count = session.scalar(select(func.count()).select_from(CalendarEntry))
    assert count == 60


def test_rebuild_command_refuses_an_unknown_organisation(component_stack: Stack) -> None:
    result = CliRunner().invoke(main, ["calendar", "rebuild", "--org", "nobody"])
    assert result.exit_code != 0
    assert "no organisation named 'nobody'" in result.output


def test_scheduler_enqueues_the_rebuild_which_the_worker_runs(component_stack: Stack) -> None:
    assert (producers.enqueue_calendar_rebuild, 3600) in PRODUCERS
    component_stack.key()
    with component_stack.db() as session:
        add_event(session, org_id(session), starts=[BASE])
    with component_stack.db() as session:
        session.execute(delete(CalendarEntry))

    producers.enqueue_calendar_rebuild(component_stack.settings)
    component_stack.broker.join("calendar", timeout=60_000)
    component_stack.worker.join()  # type: ignore[union-attr]

    with component_stack.db() as session:
        assert session.scalar(select(func.count()).select_from(CalendarEntry)) == 1
