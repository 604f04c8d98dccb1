"""Dashboard sign-ins kept on the server: the cookie names a row, logout ends it.

A signed cookie alone cannot be taken back: whoever copied it could use it
until it expired, logout or not. With the row, logout (or an expiry) ends the
session for every copy of the cookie, in every web process.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from rollcall.models import ApiKey, DashboardSession

#: Ended or expired rows are deleted at sign-in once they are this old.
KEEP_ENDED = timedelta(days=1)


def start_dashboard_session(
    session: Session, *, key_id: uuid.UUID, now: datetime, lifetime: timedelta
) -> DashboardSession:
    """A new session for the key, valid for ``lifetime``; old dead rows go."""
    session.execute(delete(DashboardSession).where(DashboardSession.expires_at < now - KEEP_ENDED))
    row = DashboardSession(api_key_id=key_id, created_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return row


def session_key(session: Session, *, session_id: uuid.UUID, now: datetime) -> ApiKey | None:
    """The key of a live session (not ended, not expired); None otherwise. The
    key's own state (revoked, scopes) is the caller's to check."""
    row = session.get(DashboardSession, session_id)
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row.api_key


def end_dashboard_session(session: Session, *, session_id: uuid.UUID, now: datetime) -> None:
    """End the session (again: no change; unknown: nothing to do)."""
    row = session.get(DashboardSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.flush()
