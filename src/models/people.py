"""Attendees: the people who enroll, found by the upstream system's ``ref``."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base, UTCDateTime, new_id


class Attendee(Base):
    __tablename__ = "attendees"
    __table_args__ = (UniqueConstraint("organisation_id", "ref"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    ref: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the request whose details are stored was accepted (not when it was
    #: applied): an older request applied late keeps its hands off them.
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: When the person was erased (domain.people.erasure): the row stays, anonymised,
    #: so seat counts and payments stay whole.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
