"""Opaque keyset cursors: the sort key of the last row of a page. Pure.

The one cursor codec of the API. A plain cursor is the base64url (unpadded)
text of a JSON array: ``[moment, row id]`` for events and occurrences,
``[moment, arrival seq, row id]`` for an event's enrollments. The calendar's
cursors are signed (``sign``/``verified``) over a payload of their own
(domain.calendar.cursor). Each decoder refuses anything it did not make with
InvalidCursor: a cursor we made holds stored, hence bounded, values.
"""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from rollcall.domain.bounds import INT32_MAX, INT32_MIN, near_window
from rollcall.domain.errors import InvalidCursor

#: 128 bits of a signature are plenty for a cursor and keep it short.
_MAC_BYTES = 16


def to_text(data: bytes) -> str:
    """base64url without the padding (the cursor stays URL-safe and short)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def from_text(text: str) -> bytes:
    """The bytes of ``to_text``; raises ValueError for anything else."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(moment: datetime, *rest: int | uuid.UUID) -> str:
    """The cursor after a row whose sort key is (moment, *rest); rest ends with its id."""
    fields = [moment.isoformat(), *(v if isinstance(v, int) else str(v) for v in rest)]
    return to_text(json.dumps(fields, separators=(",", ":")).encode())


class _Created(Protocol):
    @property
    def created_at(self) -> datetime: ...

    @property
    def id(self) -> uuid.UUID: ...


Row = TypeVar("Row", bound=_Created)


def page_of(rows: Sequence[Row], limit: int) -> tuple[list[Row], str | None]:
    """One page from ``limit + 1`` rows read in (created_at, id) order: the
    first ``limit``, and the cursor after the last of them if more followed."""
    page = list(rows[:limit])
    if len(rows) <= limit:
        return page, None
    return page, encode_cursor(page[-1].created_at, page[-1].id)


def decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    """The (moment, id) a cursor stands for; raises InvalidCursor if it was not ours."""
    if cursor is None:
        return None
    try:
        moment, row_id = _fields(cursor, 2)
        return _moment(moment), _row_id(row_id)
    except ValueError:
        raise InvalidCursor(cursor=cursor[:100]) from None


def decode_seq_cursor(cursor: str) -> tuple[datetime, int, uuid.UUID]:
    """The (moment, arrival seq, id) a cursor stands for; raises InvalidCursor
    if it was not ours."""
    try:
        moment, seq, row_id = _fields(cursor, 3)
        if type(seq) is not int or not INT32_MIN <= seq <= INT32_MAX:
            raise ValueError("not a row number this API stores")
        return _moment(moment), seq, _row_id(row_id)
    except ValueError:
        raise InvalidCursor() from None


def sign(version: str, body: str, secret: str) -> str:
    """``version.body.mac``: a cursor a client can hold and send back, not forge or edit."""
    return f"{version}.{body}.{to_text(_mac(version, body, secret))}"


def verified(version: str, cursor: str, secret: str) -> bytes:
    """The decoded body of a cursor ``sign`` made; raises InvalidCursor if
    malformed or tampered with."""
    try:
        given_version, body, mac = cursor.split(".")
        payload = from_text(body)
        given = from_text(mac)
    except ValueError:
        raise InvalidCursor() from None
    if given_version != version or not hmac.compare_digest(given, _mac(version, body, secret)):
        raise InvalidCursor()
    return payload


def _mac(version: str, body: str, secret: str) -> bytes:
    # Signed over the encoded text, not the decoded bytes: base64 has spare bits
    # in its last character, and an edit there must be refused too.
    signed = f"{version}.{body}".encode()
    return hmac.digest(secret.encode(), signed, "sha256")[:_MAC_BYTES]


def _fields(cursor: str, count: int) -> list[Any]:
    fields = json.loads(from_text(cursor))
    if not isinstance(fields, list) or len(fields) != count:
        raise ValueError("not a cursor of this list")
    return fields


def _moment(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("not a moment")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or not near_window(moment):
        raise ValueError("not a moment this API stores")
    return moment


def _row_id(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a row id")
    return uuid.UUID(value)
