"""Bodies of ``/v1/keys`` and of an attendee's token list: metadata, never a secret."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict

from rollcall.domain.access.key_admin import MAX_GRACE
from rollcall.intake.fields import Int32
from rollcall.models import ApiKey

GraceSeconds = Annotated[int, Int32(ge=0, le=int(MAX_GRACE.total_seconds()))]


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    #: The key's first characters, to tell keys apart; never the key.
    prefix: str
    scopes: list[str]
    is_operator: bool
    created_at: datetime
    last_used_at: datetime | None
    #: Set when revoked; in the future while a rotated key's grace period lasts.
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(
            id=key.id,
            organisation_id=key.organisation_id,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes),
            is_operator=key.is_operator,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class ApiKeyList(BaseModel):
    keys: list[ApiKeyOut]


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: How long the old key keeps working (0: revoked at once; at most 30 days).
    grace_seconds: GraceSeconds = 0


class RotatedKeyOut(BaseModel):
    #: The new key, shown once.
    key: str
    new: ApiKeyOut
    old: ApiKeyOut
