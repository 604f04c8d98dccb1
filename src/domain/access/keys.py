"""API keys: created once, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
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


def authenticate(session: Session, plaintext: str | None) -> ApiKey:
    """The active key for this plaintext; raises InvalidApiKey otherwise."""
    if not plaintext:
        raise InvalidApiKey()
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))
    if key is None or key.revoked_at is not None:
        raise InvalidApiKey()
    return key
