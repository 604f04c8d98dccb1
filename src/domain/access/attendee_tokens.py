"""End-user tokens: scope AUTHENTICATED, bound to one attendee, stored as SHA-256.

The token also enrolls and cancels for its own attendee (what the calendar's
calls to action do), and reads the jobs it created; it never acts for another
attendee (``AttendeeMismatch``).

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
from rollcall.domain.errors import Invalid
from rollcall.domain.errors.access import (
    AttendeeMismatch,
    InsufficientScope,
    InvalidApiKey,
    InvalidToken,
    TokenNotFound,
)
from rollcall.domain.errors.enrollment import AttendeeNotFound
from rollcall.domain.lookup import by_id_or_ref
from rollcall.models import Attendee, AttendeeToken, Enrollment
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
    """The organisation's attendee with this ref (or id); raises AttendeeNotFound,
    also for an erased one (domain.people.erasure)."""
    attendee = by_id_or_ref(
        session, Attendee, organisation_id=organisation_id, id_or_ref=id_or_ref, ref_first=True
    )
    if attendee is None or attendee.erased_at is not None:
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


def list_attendee_tokens(session: Session, *, attendee: Attendee) -> list[AttendeeToken]:
    """The attendee's tokens, revoked ones too, oldest first (metadata: no secret is stored)."""
    return list(
        session.scalars(
            select(AttendeeToken)
            .where(AttendeeToken.attendee_id == attendee.id)
            .order_by(AttendeeToken.created_at, AttendeeToken.id)
        )
    )


def revoke_attendee_token(
    session: Session, *, attendee: Attendee, token_id: str | uuid.UUID, now: datetime
) -> AttendeeToken:
    """Revoke one of the attendee's tokens: it fails from the next request on
    (tokens are looked up per request, never cached). Idempotent. Raises
    TokenNotFound for an unknown id or another attendee's token."""
    try:
        wanted = token_id if isinstance(token_id, uuid.UUID) else uuid.UUID(token_id)
    except ValueError:
        raise TokenNotFound(id=str(token_id)) from None
    token = session.get(AttendeeToken, wanted)
    if token is None or token.attendee_id != attendee.id:
        raise TokenNotFound(id=str(token_id))
    if token.revoked_at is None:
        token.revoked_at = now
        session.flush()
    return token


def authenticate_end_user(session: Session, plaintext: str | None, *, now: datetime) -> EndUser:
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
        authenticate(session, plaintext, now=now)
    except InvalidApiKey:
        raise InvalidToken() from None
    raise InsufficientScope(required=[AUTHENTICATED])


def is_end_user_token(plaintext: str | None) -> bool:
    """Whether this credential is an end-user token (else: an API key, or nothing)."""
    return bool(plaintext) and str(plaintext).startswith(TOKEN_PREFIX)


#: The attendee details an enroll job carries; empty ones keep what is stored.
_DETAILS = ("email", "name", "timezone", "locale")


def own_attendee(user: EndUser, attendee: dict[str, object]) -> dict[str, object]:
    """The enroll job's attendee when the end user enrolls: their own, as stored.

    ``attendee`` is the body's: its ``ref`` must be the token's attendee
    (AttendeeMismatch otherwise), and it carries no details: the upstream
    system owns the attendee's name and email, so a token cannot change them
    (Invalid if it tries). The details are sent empty, which keeps the stored ones.
    """
    if attendee.get("ref") != user.attendee_ref:
        raise AttendeeMismatch(ref=attendee.get("ref"))
    given = sorted(name for name in _DETAILS if attendee.get(name) not in (None, ""))
    if given:
        raise Invalid(
            "an end-user token enrolls its attendee as stored: send only attendee.ref",
            fields=given,
        )
    return {"ref": user.attendee_ref, "email": "", "name": "", "timezone": None, "locale": None}


def check_own_enrollment(
    session: Session, user: EndUser, *, event_id: uuid.UUID, enrollment_id: uuid.UUID
) -> None:
    """An end user cancels only their own enrollments: one of another attendee
    is AttendeeMismatch. One that does not exist is left to the job, which
    fails it with ENROLLMENT_NOT_FOUND, as it does for an API key."""
    holder = session.scalar(
        select(Enrollment.attendee_id).where(
            Enrollment.id == enrollment_id,
            Enrollment.event_id == event_id,
            Enrollment.organisation_id == user.organisation_id,
        )
    )
    if holder is not None and holder != user.attendee_id:
        raise AttendeeMismatch(enrollment_id=str(enrollment_id))
