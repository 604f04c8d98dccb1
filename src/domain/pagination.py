"""Opaque keyset cursors: (timestamp, id) of the last row of a page. Pure."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from rollcall.domain.bounds import near_window
from rollcall.domain.errors import InvalidCursor


def encode_cursor(moment: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([moment.isoformat(), str(row_id)], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The keyset a cursor stands for; raises InvalidCursor if it was not ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        moment_text, id_text = json.loads(raw)
        moment = datetime.fromisoformat(moment_text)
        # A cursor we made holds a stored, hence bounded, moment: anything else was edited.
        if moment.tzinfo is None or not near_window(moment):
            raise ValueError("not a moment this API stores")
        return moment, uuid.UUID(id_text)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(cursor=cursor[:100]) from None
