"""Keeps the calendar cache in step with every flush, whoever writes.

Enrollments, cancellations, promotions, event and occurrence changes are
written by several code paths (and engineers). Rather than asking each to call
us, an ``after_flush`` listener on every ORM Session notices new, changed and
deleted Enrollment, Occurrence, Event, EventSession, Trainer and
CalendarBookmark objects and refreshes the affected cache rows on the same
connection, so the cache commits (or rolls back) with the change itself.

Seat counters are changed with Core UPDATEs and are not cached, so missing them
is by design. A Core UPDATE/DELETE of the watched tables' other columns is NOT
seen here; the scheduled rebuild repairs that (see README, Calendar).

Imported by ``rollcall.domain`` (its package), which installs the listener on
every sessionmaker Rollcall builds (``models.db.on_every_session``).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session, UOWTransaction

from rollcall.models.calendar import CalendarBookmark
from rollcall.models.db import on_every_session
from rollcall.models.enrollment import Enrollment
from rollcall.models.events import Event, EventSession, Occurrence, Trainer

#: The columns whose change alters cache rows (None: any change, e.g. link rows).
EVENT_FIELDS = ("type", "name", "timezone", "status", "cancelled", "organisation_id")
OCCURRENCE_FIELDS = ("starts_at", "ends_at", "cancelled", "event_id")
ENROLLMENT_FIELDS = ("status", "scope_key", "attendee_id", "event_id")
SESSION_FIELDS = ("occurrence_ids", "event_id")


def _changed(obj: Any, fields: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _values(obj: Any, name: str) -> list[Any]:
    """The current value and, if it changed in this flush, the previous ones."""
    history = inspect(obj).attrs[name].history
    values = [getattr(obj, name)]
    values.extend(history.deleted or ())
    return [value for value in values if value is not None]


class _Affected:
    def __init__(self) -> None:
        self.events: set[uuid.UUID] = set()
        self.occurrences: set[tuple[uuid.UUID, uuid.UUID]] = set()
        self.pairs: set[tuple[uuid.UUID, uuid.UUID]] = set()

    def __bool__(self) -> bool:
        return bool(self.events or self.occurrences or self.pairs)

    def add_pairs(self, obj: Any) -> None:
        for event_id in _values(obj, "event_id"):
            for attendee_id in _values(obj, "attendee_id"):
                self.pairs.add((event_id, attendee_id))

    def note(self, obj: Any, *, changed_only: bool) -> None:
        if isinstance(obj, Event):
            if not changed_only or _changed(obj, EVENT_FIELDS):
                self.events.add(obj.id)
        elif isinstance(obj, Occurrence):
            if not changed_only or _changed(obj, OCCURRENCE_FIELDS):
                for event_id in _values(obj, "event_id"):
                    self.occurrences.add((event_id, obj.id))
        elif isinstance(obj, EventSession):
            if not changed_only or _changed(obj, SESSION_FIELDS):
                self.events.update(_values(obj, "event_id"))
        elif isinstance(obj, Enrollment):
            if not changed_only or _changed(obj, ENROLLMENT_FIELDS):
                self.add_pairs(obj)
        elif isinstance(obj, Trainer | CalendarBookmark):
            self.add_pairs(obj)


def affected_by_flush(session: Session) -> _Affected:
    """What this flush changes in the calendar (read in after_flush, when the
    session's new/dirty/deleted still show the flushed state)."""
    affected = _Affected()
    for obj in session.new:
        affected.note(obj, changed_only=False)
    for obj in session.deleted:
        affected.note(obj, changed_only=False)
    for obj in session.dirty:
        affected.note(obj, changed_only=True)
    return affected


def _refresh_calendar_after_flush(session: Session, _flush_context: UOWTransaction) -> None:
    # Imported here, not at the top: domain.calendar.cache imports the calendar
    # policy, which this module's callers may be loading.
    from rollcall.domain.calendar.cache import refresh_calendar

    affected = affected_by_flush(session)
    if affected:
        refresh_calendar(
            session.connection(),
            event_ids=affected.events,
            occurrences=affected.occurrences,
            pairs=affected.pairs,
        )


on_every_session("after_flush", _refresh_calendar_after_flush)
