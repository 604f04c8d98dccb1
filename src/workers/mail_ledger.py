"""A sender's claims and records, one statement per mail (workers.mail_run).

Before each mail goes out, one UPDATE records the outcome of the mail sent
before it and claims this one (``sending``, attempts + 1, a lease from
``updated_at``), so a sender never holds more than one mail it has not
recorded. That makes a database round trip per mail the price of the
guarantee; the ledger keeps it to one: one statement on one connection held
for the whole run, no ORM session, and on PostgreSQL in autocommit. Each
statement commits durably (``synchronous_commit`` stays on: turning it off
made reminder runs about 15% faster, but a crash of the database server
could then forget the last records and send those mails twice).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import (
    Connection,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    literal,
    or_,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from rollcall.config.settings import Settings
from rollcall.domain.ops.mail_claims import claimable_before, in_order
from rollcall.models import EmailMessage

_table = cast(Table, EmailMessage.__table__)
_m = _table.c
_uuid = EmailMessage.id.type
_time = EmailMessage.updated_at.type
_DONE = bindparam("done_id", type_=_uuid)
_NEXT = bindparam("next_id", type_=_uuid)

#: Whether the mail to claim may leave now (domain.ops.mail_claims.in_order);
#: one that may not is put aside (``retrying``, no attempt counted).
_NOW = bindparam("now", type_=_time)
_IN_ORDER = in_order(_NOW)

#: The mail just sent and its outcome (``done_*``), the mail to claim next
#: (``next_*``); either id may be None.
_STEP = (
    update(_table)
    .where(
        or_(
            _m.id == _DONE,
            and_(_m.id == _NEXT, claimable_before(bindparam("lease_cutoff", type_=_time), _NOW)),
        )
    )
    .values(
        state=case(
            (_m.id == _DONE, bindparam("done_state", type_=String)),
            (_IN_ORDER, literal("sending")),
            else_=literal("retrying"),
        ),
        attempts=case(
            (_m.id == _DONE, _m.attempts), (_IN_ORDER, _m.attempts + 1), else_=_m.attempts
        ),
        last_error=case(
            (_m.id == _DONE, bindparam("done_error", type_=Text)),
            else_=_m.last_error,
        ),
        sent_at=case(
            (_m.id == _DONE, bindparam("done_sent_at", type_=_time)),
            else_=_m.sent_at,
        ),
        message_id=case(
            (_m.id == _NEXT, bindparam("next_message_id", type_=String)),
            else_=_m.message_id,
        ),
        updated_at=_NOW,
    )
    .returning(_m.id, _m.attempts, _m.state)
)

#: What ``step`` says of the mail it was to claim.
CLAIM_BLOCKED = -1


class Ledger:
    """Claims and records for one sender, over one connection held open."""

    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        with factory() as session:
            engine = session.get_bind()
        self.lease = timedelta(seconds=settings.mail_lease_seconds)
        self.postgres = engine.dialect.name == "postgresql"
        self.connection: Connection = engine.connect()  # type: ignore[union-attr]
        if self.postgres:
            self.connection = self.connection.execution_options(isolation_level="AUTOCOMMIT")

    def step(
        self,
        *,
        done: tuple[uuid.UUID, str, str | None] | None,
        next_id: uuid.UUID | None,
        next_message_id: str | None,
        now: datetime,
    ) -> int | None:
        """Record ``done`` (id, state, error) and claim ``next_id``; returns the
        claimed mail's attempt number, None if it is not claimable (another
        sender holds it, it is no longer waiting, or its send deadline has
        come: the run expires it at its end), CLAIM_BLOCKED if an
        earlier mail of its attendee and event is not out yet (it is now
        ``retrying``: the caller hands it to ``send_email``)."""
        done_id, done_state, done_error = done if done is not None else (None, None, None)
        params = {
            "done_id": done_id,
            "done_state": done_state,
            "done_error": done_error,
            "done_sent_at": now if done_state == "sent" else None,
            "next_id": next_id,
            "next_message_id": next_message_id,
            "lease_cutoff": now - self.lease,
            "now": now,
        }
        if self.postgres:
            rows = self.connection.execute(_STEP, params).all()
        else:
            with self.connection.begin():
                rows = self.connection.execute(_STEP, params).all()
        for row_id, attempts, state in rows:
            if row_id == next_id:
                return int(attempts) if state == "sending" else CLAIM_BLOCKED
        return None

    def close(self) -> None:
        self.connection.close()
