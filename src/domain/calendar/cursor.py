"""Opaque, tamper-proof keyset cursors for the calendar.

A cursor names a position in the order (starts_at, occurrence id), never an
offset, so it stays valid while entries are added before or after it. It is
signed with HMAC-SHA256 under ``Settings.calendar_cursor_secret`` by the one
cursor codec (domain.pagination): a client can hold it and send it back, not
forge or edit one. The payload is the calendar's own: microseconds since the
epoch and the id's hex.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from rollcall.domain.errors import InvalidCursor
from rollcall.domain.pagination import sign, to_text, verified

VERSION = "c1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

CursorKey = tuple[datetime, uuid.UUID]


def encode_cursor(key: CursorKey, *, secret: str) -> str:
    """The opaque cursor for this (starts_at, occurrence id) position."""
    starts_at, occurrence_id = key
    delta = starts_at.astimezone(UTC) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return sign(VERSION, to_text(f"{micros}:{occurrence_id.hex}".encode()), secret)


def decode_cursor(cursor: str, *, secret: str) -> CursorKey:
    """The position a cursor names; raises InvalidCursor if malformed or tampered with."""
    payload = verified(VERSION, cursor, secret)
    try:
        micros_text, hex_id = payload.decode().split(":")
        starts_at = _EPOCH + timedelta(microseconds=int(micros_text))
        return starts_at, uuid.UUID(hex=hex_id)
    except (ValueError, OverflowError, UnicodeDecodeError):
        raise InvalidCursor() from None
