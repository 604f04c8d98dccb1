"""Managing API keys: list, revoke, rotate (the CLI and ``/v1/keys`` share these).

A key is never shown again after it is created; listing shows its id, prefix,
scopes and times. Rotation issues a key with the same scopes and sets the old
key's ``revoked_at`` to the end of the grace period, so both work until then.

Web processes cache the keys they authenticated: whoever revokes, rotates,
re-scopes or deletes a key runs its transaction inside
``messaging.key_epoch.changing_api_keys``, which ends every cached entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.access.keys import create_api_key, is_active
from rollcall.domain.errors.access import ApiKeyNotFound, ApiKeyRevoked
from rollcall.models import ApiKey

#: The longest grace period a rotation may give the old key.
MAX_GRACE = timedelta(days=30)


def list_api_keys(session: Session, *, organisation_id: uuid.UUID | None = None) -> list[ApiKey]:
    """The keys of one organisation (every organisation's when None), oldest first."""
    query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)
    if organisation_id is not None:
        query = query.where(ApiKey.organisation_id == organisation_id)
    return list(session.scalars(query))


def get_api_key(
    session: Session, *, key_id: str | uuid.UUID, organisation_id: uuid.UUID | None = None
) -> ApiKey:
    """The key with this id, in this organisation when one is given (another
    organisation's key is not found). Raises ApiKeyNotFound."""
    try:
        wanted = key_id if isinstance(key_id, uuid.UUID) else uuid.UUID(key_id)
    except ValueError:
        raise ApiKeyNotFound(id=str(key_id)) from None
    # Locked (of the key's table only: its organisation is joined), so a revoke
    # and a rotation of one key run one after the other.
    key = session.scalar(select(ApiKey).where(ApiKey.id == wanted).with_for_update(of=ApiKey))
    if key is None or (organisation_id is not None and key.organisation_id != organisation_id):
        raise ApiKeyNotFound(id=str(key_id))
    return key


def revoke_api_key(session: Session, *, key: ApiKey, now: datetime) -> ApiKey:
    """Revoke ``key`` now (also one in a rotation's grace period); a key revoked
    before keeps its time. Idempotent."""
    if is_active(key, now=now):
        key.revoked_at = now
        session.flush()
    return key


def rotate_api_key(
    session: Session, *, key: ApiKey, now: datetime, grace: timedelta = timedelta(0)
) -> tuple[ApiKey, str]:
    """A new key with ``key``'s organisation, scopes, name and operator flag,
    and its plaintext; ``key`` stops working ``grace`` from now.

    Raises ApiKeyRevoked for a key that is revoked or already due to be (a
    second rotation would leave two successors), ValueError for a grace
    outside 0..MAX_GRACE (the edges validate it first).
    """
    if not timedelta(0) <= grace <= MAX_GRACE:
        raise ValueError(f"grace must be between 0 and {int(MAX_GRACE.total_seconds())} seconds")
    if key.revoked_at is not None:
        raise ApiKeyRevoked(id=str(key.id), revoked_at=key.revoked_at.isoformat())
    new_key, plaintext = create_api_key(
        session,
        organisation=key.organisation,
        scopes=list(key.scopes),
        now=now,
        name=key.name,
        is_operator=key.is_operator,
    )
    key.revoked_at = now + grace
    session.flush()
    return new_key, plaintext
