"""Response models read rows by attribute (pydantic ``from_attributes``): every
column of the row is shown or deliberately left out, so a new column cannot be
forgotten silently (review of issue 14)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel

from rollcall.intake.event_schemas import SessionOut
from rollcall.intake.offer_schemas import OfferOut
from rollcall.models import EventSession, Offer

#: (response model, table, columns deliberately not shown, and why)
SHOWN: list[tuple[type[BaseModel], type[Any], set[str]]] = [
    # the organisation is the caller's own
    (OfferOut, Offer, {"organisation_id"}),
    # paused_by_unpublish is bookkeeping for republish; created_at is not API
    (SessionOut, EventSession, {"paused_by_unpublish", "created_at"}),
]


def read_names(model: type[BaseModel]) -> set[str]:
    """The attribute each field is read from (its validation alias, else its name)."""
    return {
        field.validation_alias if isinstance(field.validation_alias, str) else name
        for name, field in model.model_fields.items()
    }


@pytest.mark.parametrize(("model", "table", "hidden"), SHOWN)
def test_every_column_is_shown_or_deliberately_hidden(
    model: type[BaseModel], table: type[Any], hidden: set[str]
) -> None:
    columns = {column.key for column in table.__mapper__.column_attrs}
    assert columns - hidden == read_names(model)


def test_session_out_reads_the_row_and_shapes_its_dates() -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    row = EventSession(
        id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        name="Morning",
        capacity=10,
        status="active",
        starts_at="09:00",
        duration_minutes=60,
        occurrence_ids=None,
        enrolled_count=2,
        waitlisted_count=1,
        created_at=now,
    )
    out = SessionOut.of(row).model_dump()
    assert out["occurrences"] == {"type": "all", "ids": []}
    assert (out["enrolled_count"], out["waitlisted_count"]) == (2, 1)
    row.occurrence_ids = ["a", "b"]
    assert SessionOut.of(row).occurrences == {"type": "specific", "ids": ["a", "b"]}
    assert "occurrence_ids" not in SessionOut.of(row).model_dump(by_alias=True)
