"""Every mail the platform sends, with its delivery state."""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id

EmailState = Literal["queued", "sending", "sent", "retrying", "failed", "expired"]
EMAIL_STATES: tuple[EmailState, ...] = get_args(EmailState)
#: The states a mail ends in: nothing sends it again. ``expired``: its
#: ``not_after`` passed before it could go (domain.ops.mail_claims.claimable_before).
FINAL_STATES: tuple[EmailState, ...] = ("sent", "failed", "expired")
#: The states of a mail not yet out: it holds back the later mails of its
#: attendee and event (domain.ops.mail_claims.in_order).
UNSENT_STATES: tuple[EmailState, ...] = ("queued", "sending", "retrying")

#: Order keys of the changes that cause mail (PostgreSQL; see next_order_key).
MAIL_ORDER = Sequence("mail_order_seq", metadata=Base.metadata)


class EmailMessage(Base):
    __tablename__ = "email_messages"
    __table_args__ = (
        Index("ix_email_messages_org_state", "organisation_id", "state"),
        Index("ix_email_messages_run_state", "run_id", "state"),
        # Mail in flight (claimed, or waiting for a retry): the stalled-mail
        # producer reads these every minute; the index holds only them.
        Index(
            "ix_email_messages_in_flight",
            "updated_at",
            postgresql_where=text("state IN ('sending', 'retrying')"),
            sqlite_where=text("state IN ('sending', 'retrying')"),
        ),
        # The order check of every claim: the earlier mails of one attendee and event.
        Index("ix_email_messages_order", "attendee_id", "event_id", "order_key"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    job_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True, index=True)
    #: Unique when set: one mail per (cause, recipient), e.g. "reminder:<run>:<attendee>".
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    template: Mapped[str] = mapped_column(String(64))
    to_address: Mapped[str] = mapped_column(String(320))
    to_name: Mapped[str] = mapped_column(String(200), default="")
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The reminder run that sends this mail over its shared SMTP connection (issue 5).
    run_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    #: Last state change. For a ``sending`` mail it starts the sender's lease
    #: (MAIL_LEASE_SECONDS): past it, the mail may be claimed and sent again.
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Ordered mail (issue 14): the attendee and event it is about, and the order
    #: key of the change that caused it (next_order_key, taken in that change's
    #: transaction after its locks). A mail with a key leaves only after every
    #: mail of its attendee and event with a smaller key. None: unordered (reminders).
    attendee_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    event_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)
    order_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: The moment from which this mail may no longer be sent (a "before"
    #: reminder's occurrence start, domain.reminders.runs.send_deadline); past
    #: it the mail is never claimed and ends ``expired``. None: no deadline.
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


def next_order_key(session: Session) -> int:
    """The order key of the change in this transaction. Take it after the
    change's locks (the seat counters, the enrollment row): two changes of one
    attendee's enrollment in one scope then get keys in their commit order.

    PostgreSQL: a sequence value. SQLite (development, component tests): the
    clock in nanoseconds; SQLite runs one writing transaction at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        return int(session.scalar(select(MAIL_ORDER.next_value())) or 0)
    return time.time_ns()
