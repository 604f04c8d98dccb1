"""Opaque, tamper-proof keyset cursors for the calendar.

A cursor names a position in the order (starts_at, occurrence id), never an
offset, so it stays valid while entries are added before or after it. It is
signed with HMAC-SHA256 under ``Settings.calendar_cursor_secret``: a client can
hold it and send it back, not forge or edit one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import uuid
from datetime import UTC, datetime, timedelta

from rollcall.domain.errors import InvalidCursor

VERSION = "c1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: 128 bits of the MAC are plenty for a cursor and keep it short.
_MAC_BYTES = 16

CursorKey = tuple[datetime, uuid.UUID]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(body: str, secret: str) -> bytes:
    # Signed over the encoded text, not the decoded bytes: base64 has spare bits
    # in its last character, and an edit there must be refused too.
    signed = f"{VERSION}.{body}".encode()
    return hmac.digest(secret.encode(), signed, "sha256")[:_MAC_BYTES]


def encode_cursor(key: CursorKey, *, secret: str) -> str:
    """The opaque cursor for this (starts_at, occurrence id) position."""
    starts_at, occurrence_id = key
    delta = starts_at.astimezone(UTC) - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    body = _b64(f"{micros}:{occurrence_id.hex}".encode())
    return f"{VERSION}.{body}.{_b64(_mac(body, secret))}"


def decode_cursor(cursor: str, *, secret: str) -> CursorKey:
    """The position a cursor names; raises InvalidCursor if malformed or tampered with."""
    try:
        version, body, mac = cursor.split(".")
        payload = _unb64(body)
        given = _unb64(mac)
    except (ValueError, binascii.Error):
        raise InvalidCursor() from None
    if version != VERSION or not hmac.compare_digest(given, _mac(body, secret)):
        raise InvalidCursor()
    try:
        micros_text, hex_id = payload.decode().split(":")
        starts_at = _EPOCH + timedelta(microseconds=int(micros_text))
        return starts_at, uuid.UUID(hex=hex_id)
    except (ValueError, OverflowError, UnicodeDecodeError):
        raise InvalidCursor() from None
