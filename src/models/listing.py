"""The catalogue's index of event labels (seed 002 ``listing``): one row per
category or tag of an event, its key lowercased, so ``GET /v1/catalogue``
filters by label with an index on every database. The labels as shown (their
spelling and order) are the event's ``categories`` and ``tags``."""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from rollcall.models.base import Base

LabelKind = Literal["category", "tag"]


class EventLabel(Base):
    __tablename__ = "event_labels"
    __table_args__ = (Index("ix_event_labels_kind_key", "kind", "key"),)

    event_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(50), primary_key=True)
