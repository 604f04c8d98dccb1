"""Messages for the workers are written in the caller's transaction.

The ids are also kept on the session (``session.info``), so whoever commits
can dispatch exactly what this unit of work produced (messaging.outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.models import OutboxMessage

PENDING_KEY = "rollcall.outbox"


def add_message(session: Session, *, actor: str, args: list[Any], now: datetime) -> OutboxMessage:
    message = OutboxMessage(actor=actor, args=args, created_at=now)
    session.add(message)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(message.id)
    return message


def take_pending(session: Session) -> list[Any]:
    """The outbox ids this session wrote since the last call."""
    return list(session.info.pop(PENDING_KEY, []))
