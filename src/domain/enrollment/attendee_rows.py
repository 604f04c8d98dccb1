"""Attendees for many rows at once: found by ref, brought up to date, or inserted.

Set-based (a query per 1,000 refs, one bulk insert), for bulk enrollment and
for groups of single enroll jobs. A ref inserted concurrently by another
transaction (the unique ``(organisation_id, ref)`` constraint) is found on a
second look, not lost.

The latest details win, as an upstream system expects when it sends a
returning attendee with a new name, email, time zone or locale: the stored
attendee takes them. A value left empty in a row keeps what is stored.
"Latest" is by acceptance, not by application: ``updated_at`` is when the
request whose details are stored was accepted, and a request accepted
earlier (a job retried late, a slow worker) does not overwrite them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, select, true, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rollcall.models import Attendee
from rollcall.models.base import new_id
from rollcall.models.bulk_insert import insert_rows

IN_BATCH = 1_000
FIELDS = ("email", "name", "timezone", "locale")
#: Concurrent inserts of the same refs: give up (and let the job retry) after this.
_INSERT_TRIES = 3


def batches(values: Sequence[Any], size: int = IN_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_COLUMNS = (
    Attendee.ref,
    Attendee.id,
    Attendee.email,
    Attendee.name,
    Attendee.timezone,
    Attendee.locale,
    Attendee.updated_at,
)


@lru_cache(maxsize=4)
def _stored_query(dialect: str) -> Any:
    """The stored attendees of ``organisation_id`` among ``refs``, built once."""
    organisation = bindparam("organisation_id", type_=Attendee.organisation_id.type)
    if dialect != "postgresql":
        refs = bindparam("refs", expanding=True, type_=Attendee.ref.type)
        return select(*_COLUMNS).where(
            Attendee.organisation_id == organisation, Attendee.ref.in_(refs)
        )
    # One unique-index probe per ref (a LATERAL lookup), whatever the
    # planner believes of the organisation's size: with stale statistics
    # (right after a big import) ``ref = ANY(...)`` scanned the whole
    # organisation for every batch.
    wanted = (
        func.unnest(bindparam("refs", type_=ARRAY(Attendee.ref.type)))
        .table_valued("ref")
        .render_derived(name="wanted")
    )
    match = (
        select(*_COLUMNS)
        .where(Attendee.organisation_id == organisation, Attendee.ref == wanted.c.ref)
        .limit(1)  # (one at most, being unique; and it keeps the join a loop)
        .lateral()
    )
    return select(match).select_from(wanted).join(match, true())


def _stored(
    session: Session, organisation_id: uuid.UUID, refs: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """ref -> (id, email, name, timezone, locale, updated_at). Plain tuples, not
    ORM objects: at 10,000 rows the identity map costs more than the queries."""
    found: dict[str, tuple[Any, ...]] = {}
    query = _stored_query(session.get_bind().dialect.name)
    for batch in batches(refs):
        params = {"organisation_id": organisation_id, "refs": list(batch)}
        for row in session.execute(query, params):
            found[row[0]] = tuple(row[1:])
    return found


def upsert_attendee_rows(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    rows: Sequence[dict[str, Any]],
    now: datetime,
    requested_at: datetime,
) -> dict[str, uuid.UUID]:
    """The attendee id of every row (by ``ref``), created or brought up to date.

    ``requested_at`` is when the rows' request was accepted; a row may carry
    its own (a group of single enroll jobs)."""
    refs = list(dict.fromkeys(row["ref"] for row in rows))
    for _ in range(_INSERT_TRIES):
        found = _stored(session, organisation_id, refs)
        fresh = [
            _new(organisation_id, row, now, _as_of(row, requested_at))
            for row in _first_per_ref(rows, found)
        ]
        try:
            with session.begin_nested():
                insert_rows(session, Attendee, fresh)
        except IntegrityError:
            continue  # another transaction inserted some of these refs: look again
        break
    else:
        raise RuntimeError("attendees kept being inserted concurrently; the job will retry")
    result = {new["ref"]: new["id"] for new in fresh}
    changed: list[dict[str, Any]] = []
    for row in rows:
        existing = found.get(row["ref"])
        if existing is None or row["ref"] in result:
            continue
        result[row["ref"]] = existing[0]
        current = dict(zip(FIELDS, existing[1:5], strict=True))
        wanted = {name: row.get(name) or current[name] for name in FIELDS}
        as_of = _as_of(row, requested_at)
        if wanted != current and as_of >= existing[5]:
            changed.append(
                {"attendee_id": existing[0], "as_of": as_of}
                | {f"new_{name}": value for name, value in wanted.items()}
            )
    if changed:
        _update_details(session, sorted(changed, key=lambda change: change["attendee_id"]))
    return result


def _as_of(row: dict[str, Any], requested_at: datetime) -> datetime:
    return row.get("requested_at") or requested_at


def _update_details(session: Session, changed: list[dict[str, Any]]) -> None:
    """One executemany over the table (not the ORM entity: an ORM bulk UPDATE
    takes its rows by primary key only and refused the condition). The
    condition re-checks the acceptance moment under the row lock, against a
    newer request's transaction that committed in between. In id order, so
    two transactions updating the same attendees wait rather than deadlock."""
    table = cast(Table, Attendee.__table__)
    session.execute(
        update(table)
        .where(table.c.id == bindparam("attendee_id"), table.c.updated_at <= bindparam("as_of"))
        .values(
            {name: bindparam(f"new_{name}") for name in FIELDS} | {"updated_at": bindparam("as_of")}
        ),
        changed,
    )


def _first_per_ref(
    rows: Sequence[dict[str, Any]], found: dict[str, tuple[Any, ...]]
) -> list[dict[str, Any]]:
    seen: set[str] = set(found)
    first = []
    for row in rows:
        if row["ref"] not in seen:
            seen.add(row["ref"])
            first.append(row)
    return first


def _new(
    organisation_id: uuid.UUID, row: dict[str, Any], now: datetime, as_of: datetime
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "organisation_id": organisation_id,
        "ref": row["ref"],
        "email": row["email"],
        "name": row.get("name") or "",
        "timezone": row.get("timezone"),
        "locale": row.get("locale"),
        "created_at": now,
        "updated_at": as_of,
    }
