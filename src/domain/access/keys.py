"""API keys: created once, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from rollcall.domain.errors.access import InvalidApiKey
from rollcall.models import ApiKey, Organisation

KEY_PREFIX = "rc_"
SCOPES = (
    "events:read",
    "events:write",
    "students:write",
    "jobs:read",
    "ops",
    "webhooks:write",
    # Seed 002's scope names (its REST dialect); ``events:write`` implies them all.
    "event.create",
    "event.add_session",
    "event.publish",
    "event.unpublish",
    "event.cancel",
)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def get_or_create_organisation(session: Session, *, name: str, now: datetime) -> Organisation:
    org = session.scalar(select(Organisation).where(Organisation.name == name))
    if org is None:
        org = Organisation(name=name, created_at=now)
        session.add(org)
        session.flush()
    return org


def create_api_key(
    session: Session,
    *,
    organisation: Organisation,
    scopes: list[str],
    now: datetime,
    name: str = "",
    is_operator: bool = False,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plaintext, which is never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(unknown)} (known: {', '.join(SCOPES)})")
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        organisation_id=organisation.id,
        name=name,
        prefix=plaintext[:10],
        key_hash=hash_key(plaintext),
        scopes=sorted(set(scopes)),
        is_operator=is_operator,
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, plaintext


#: ``last_used_at`` is this precise: a key used all day costs one write a minute, not one a request.
LAST_USED_PRECISION = timedelta(minutes=1)


def is_active(key: ApiKey, *, now: datetime) -> bool:
    """Not revoked, or revoked only later (a rotated key's grace period)."""
    return key.revoked_at is None or key.revoked_at > now


def authenticate(session: Session, plaintext: str | None, *, now: datetime) -> ApiKey:
    """The active key for this plaintext; raises InvalidApiKey otherwise.

    Read from the database on every call, never from a per-process cache, so a
    revocation holds at the next request in every web process.
    """
    if not plaintext:
        raise InvalidApiKey()
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))
    if key is None or not is_active(key, now=now):
        raise InvalidApiKey()
    return key


def note_use(session: Session, key: ApiKey, *, now: datetime) -> bool:
    """Record that ``key`` was used ``now``, unless it was within LAST_USED_PRECISION.

    Returns whether it wrote (the caller then commits). The condition is
    repeated in the UPDATE, so processes racing on one key write once.
    """
    cutoff = now - LAST_USED_PRECISION
    if key.last_used_at is not None and key.last_used_at > cutoff:
        return False
    result = session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == key.id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= cutoff),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
