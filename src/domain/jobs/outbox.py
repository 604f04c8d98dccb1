"""Messages for the workers are written in the caller's transaction.

What was written is also kept on the session (``session.info``), so whoever
commits can dispatch exactly what this unit of work produced
(messaging.outbox): by id (``take_pending``), or as the rows themselves
(``take_written``), which spares the dispatcher reading them back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from rollcall.models import OutboxMessage
from rollcall.models.base import new_id

PENDING_KEY = "rollcall.outbox"


@dataclass(frozen=True)
class WrittenMessage:
    """An outbox row as its transaction wrote it: all the broker needs."""

    id: uuid.UUID
    actor: str
    args: list[Any]


#: One outbox row, a Core insert built once: a row written through the ORM
#: cost a unit of work of its own (and its listeners) on every job.
_ROW = insert(cast(Table, OutboxMessage.__table__))


def add_message(session: Session, *, actor: str, args: list[Any], now: datetime) -> WrittenMessage:
    """Write an outbox row in the session's transaction, after what the session
    holds (flushed first, as the ORM would flush before it); returns it as written."""
    session.flush()
    written = WrittenMessage(id=new_id(), actor=actor, args=list(args))
    session.execute(
        _ROW,
        {
            "id": written.id,
            "actor": actor,
            "args": written.args,
            "created_at": now,
            "sent_at": None,
            "attempts": 0,
            "done_at": None,
        },
    )
    note_written(session, written)
    return written


def note_written(session: Session, written: WrittenMessage) -> None:
    """Keep an outbox row this session's transaction wrote (by the ORM, as
    ``add_message``, or by a statement of its own) for ``take_written``."""
    session.info.setdefault(PENDING_KEY, []).append(written)


def take_written(session: Session) -> list[WrittenMessage]:
    """The outbox rows this session wrote since the last call (of either
    ``take_written`` or ``take_pending``), in the order written."""
    return list(session.info.pop(PENDING_KEY, []))


def take_pending(session: Session) -> list[Any]:
    """The ids of the outbox rows this session wrote since the last call."""
    return [written.id for written in take_written(session)]
