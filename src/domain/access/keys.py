"""API keys: created once, shown once, stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from rollcall.domain.access.key_cache import KeyCache
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


@dataclass(frozen=True)
class KnownKey:
    """What a request needs of its API key: the row's fields, kept by value
    (safe to share across requests and threads, unlike the ORM row)."""

    id: uuid.UUID
    organisation_id: uuid.UUID
    key_hash: str
    scopes: tuple[str, ...]
    is_operator: bool
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KnownKey:
        return cls(
            key.id,
            key.organisation_id,
            key.key_hash,
            tuple(key.scopes or ()),
            key.is_operator,
            key.revoked_at,
            key.last_used_at,
        )


def is_active(key: ApiKey | KnownKey, *, now: datetime) -> bool:
    """Not revoked, or revoked only later (a rotated key's grace period)."""
    return key.revoked_at is None or key.revoked_at > now


def authenticate(
    session: Session,
    plaintext: str | None,
    *,
    now: datetime,
    cache: KeyCache | None = None,
    epoch: str | None = None,
) -> KnownKey:
    """The active key for this plaintext; raises InvalidApiKey otherwise.

    Read from the database, or from ``cache`` if it holds the key under
    ``epoch``: the epoch every change to a key replaces (messaging.key_epoch),
    read for this request, so a revocation holds at the next request in every
    web process. Without an epoch (no Redis) the database is read. Whether the
    key is active is decided at ``now`` either way, so a rotated key's grace
    period ends on time in the cache too.
    """
    if not plaintext:
        raise InvalidApiKey()
    key_hash = hash_key(plaintext)
    if cache is not None and epoch is not None:
        key = cache.get(key_hash, epoch=epoch, now=now)
    else:
        key = None
    if key is None:
        row = session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))
        if row is None:
            raise InvalidApiKey()
        key = KnownKey.of(row)
        if cache is not None and epoch is not None:
            cache.put(key, epoch=epoch, now=now)
    if not is_active(key, now=now):
        raise InvalidApiKey()
    return key


def use_due(key: KnownKey, *, now: datetime) -> bool:
    """Whether ``note_use`` would write the key's last use ``now`` (it was not
    noted within LAST_USED_PRECISION)."""
    return key.last_used_at is None or key.last_used_at <= now - LAST_USED_PRECISION


def cached_key(cache: KeyCache, plaintext: str, *, epoch: str, now: datetime) -> KnownKey | None:
    """The active key for this plaintext from ``cache`` under ``epoch``, if
    the request needs no database for it (its last use is not due); None
    otherwise: ``authenticate`` then decides, reading the database."""
    key = cache.get(hash_key(plaintext), epoch=epoch, now=now)
    if key is None or not is_active(key, now=now) or use_due(key, now=now):
        return None
    return key


def note_use(
    session: Session, key: KnownKey, *, now: datetime, cache: KeyCache | None = None
) -> bool:
    """Record that ``key`` was used ``now``, unless it was within LAST_USED_PRECISION.

    Returns whether it wrote (the caller then commits). The condition is
    repeated in the UPDATE, so processes racing on one key write once; the
    cache remembers the attempt, so its process tries once a minute too.
    """
    if not use_due(key, now=now):
        return False
    cutoff = now - LAST_USED_PRECISION
    if cache is not None:
        cache.note_use(key, now=now)
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
