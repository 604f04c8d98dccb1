"""Every mail the platform sends, with its delivery state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id

EmailState = Literal["queued", "sending", "sent", "retrying", "failed"]
EMAIL_STATES: tuple[EmailState, ...] = get_args(EmailState)


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
