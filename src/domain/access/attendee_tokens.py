"""End-user tokens: scope AUTHENTICATED, bound to one attendee, stored as SHA-256.

Tokens start with ``rct_`` so a request can tell an end-user token from an API
key (``rc_``): a valid API key on a calendar route is "forbidden" (it lacks the
scope), anything else unknown is "unauthenticated".
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.access.keys import authenticate, hash_key
from rollcall.domain.errors.access import InsufficientScope, InvalidApiKey, InvalidToken
from rollcall.domain.errors.enrollment import AttendeeNotFound
from rollcall.models import Attendee, AttendeeToken
from rollcall.models.calendar import AUTHENTICATED

TOKEN_PREFIX = "rct_"


@dataclass(frozen=True)
class EndUser:
    """Who a calendar request speaks for."""

    token_id: uuid.UUID
    organisation_id: uuid.UUID
    attendee_id: uuid.UUID
    attendee_ref: str


def get_attendee(session: Session, *, organisation_id: uuid.UUID, id_or_ref: str) -> Attendee:
    """The organisation's attendee with this ref (or id); raises AttendeeNotFound."""
    query = select(Attendee).where(Attendee.organisation_id == organisation_id)
    attendee = session.scalar(query.where(Attendee.ref == id_or_ref))
    if attendee is None:
        try:
            attendee = session.scalar(query.where(Attendee.id == uuid.UUID(id_or_ref)))
        except ValueError:
            attendee = None
    if attendee is None:
        raise AttendeeNotFound(ref=id_or_ref)
    return attendee


def create_attendee_token(
    session: Session, *, attendee: Attendee, now: datetime
) -> tuple[AttendeeToken, str]:
    """A new token for this attendee and its plaintext, which is never stored."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AttendeeToken(
        organisation_id=attendee.organisation_id,
        attendee_id=attendee.id,
        prefix=plaintext[:10],
        token_hash=hash_key(plaintext),
        scope=AUTHENTICATED,
        created_at=now,
    )
    session.add(token)
    session.flush()
    return token, plaintext


def authenticate_end_user(session: Session, plaintext: str | None) -> EndUser:
    """The end user of this token.

    Raises InvalidToken (401) when it is missing, unknown or revoked, and
    InsufficientScope (403) when it is a valid API key, which lacks AUTHENTICATED.
    """
    if not plaintext:
        raise InvalidToken()
    if plaintext.startswith(TOKEN_PREFIX):
        row = session.execute(
            select(AttendeeToken, Attendee.ref)
            .join(Attendee, Attendee.id == AttendeeToken.attendee_id)
            .where(AttendeeToken.token_hash == hash_key(plaintext))
        ).first()
        if row is None or row[0].revoked_at is not None or row[0].scope != AUTHENTICATED:
            raise InvalidToken()
        token, ref = row
        return EndUser(token.id, token.organisation_id, token.attendee_id, ref)
    try:
        authenticate(session, plaintext)
    except InvalidApiKey:
        raise InvalidToken() from None
    raise InsufficientScope(required=[AUTHENTICATED])
