"""Cursors clients already hold keep decoding: one pinned cursor per list,
as the codec of each endpoint wrote it before they shared domain.pagination."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from rollcall.domain.calendar import cursor as calendar_cursor
from rollcall.domain.errors import InvalidCursor
from rollcall.domain.pagination import decode_cursor, decode_seq_cursor, encode_cursor

MOMENT = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
ROW = uuid.UUID("12345678-1234-5678-1234-567812345678")

#: /v1/events and /v1/events/{id}/occurrences: [moment, id], compact JSON.
EVENTS = (
    "WyIyMDMwLTA1LTA2VDA3OjA4OjA5LjEyMzQ1NiswMDowMCIsIjEyMzQ1Njc4LTEyMzQtNTY3OC0xMjM0"
    "LTU2NzgxMjM0NTY3OCJd"
)
#: /v1/events/{id}/enrollments: [moment, seq, id], written with ", " separators.
ENROLLMENTS = (
    "WyIyMDMwLTA1LTA2VDA3OjA4OjA5LjEyMzQ1NiswMDowMCIsIDQyLCAiMTIzNDU2NzgtMTIzNC01Njc4"
    "LTEyMzQtNTY3ODEyMzQ1Njc4Il0"
)
#: /v1/calendar: signed microseconds and hex id.
CALENDAR = (
    "c1.MTkwNDI4MTY4OTEyMzQ1NjoxMjM0NTY3ODEyMzQ1Njc4MTIzNDU2NzgxMjM0NTY3OA.WpHoMZvlK3S5rFwEpe-gTg"
)


def test_event_and_occurrence_cursors_are_unchanged() -> None:
    assert decode_cursor(EVENTS) == (MOMENT, ROW)
    assert encode_cursor(MOMENT, ROW) == EVENTS


def test_enrollment_cursors_already_held_still_decode() -> None:
    assert decode_seq_cursor(ENROLLMENTS) == (MOMENT, 42, ROW)
    fresh = encode_cursor(MOMENT, 42, ROW)
    assert json.loads(base64.urlsafe_b64decode(fresh + "==")) == [MOMENT.isoformat(), 42, str(ROW)]
    assert decode_seq_cursor(fresh) == (MOMENT, 42, ROW)


def test_calendar_cursors_are_unchanged() -> None:
    assert calendar_cursor.decode_cursor(CALENDAR, secret="s3cret-s3cret") == (MOMENT, ROW)
    assert calendar_cursor.encode_cursor((MOMENT, ROW), secret="s3cret-s3cret") == CALENDAR


@pytest.mark.parametrize(
    "fields", [[MOMENT.isoformat(), 7], [MOMENT.isoformat(), 1, 7], {"a": 1, "b": 2}, "ab"]
)
def test_a_cursor_of_the_wrong_shape_is_invalid(fields: object) -> None:
    cursor = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor)
    with pytest.raises(InvalidCursor):
        decode_seq_cursor(cursor)
