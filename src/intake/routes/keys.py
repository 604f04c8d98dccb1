"""The organisation's API keys, for a key with the ``ops`` scope: list, revoke, rotate."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body, Depends

from rollcall.domain.access.key_admin import (
    get_api_key,
    list_api_keys,
    revoke_api_key,
    rotate_api_key,
)
from rollcall.domain.clock import utcnow
from rollcall.intake.deps import Caller, DbSession, ProcessKeys, require
from rollcall.intake.fields import Ref
from rollcall.intake.json_body import BoundedJsonRoute
from rollcall.intake.key_schemas import ApiKeyList, ApiKeyOut, RotatedKeyOut, RotateIn
from rollcall.messaging.key_epoch import changing_api_keys

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=BoundedJsonRoute)
OpsKey = Annotated[Caller, Depends(require("ops"))]


@router.get("", response_model=ApiKeyList, summary="List the organisation's API keys")
def get_keys(caller: OpsKey, session: DbSession) -> ApiKeyList:
    keys = list_api_keys(session, organisation_id=caller.organisation_id)
    return ApiKeyList(keys=[ApiKeyOut.of(key) for key in keys])


@router.post(
    "/{key_id}/revoke",
    response_model=ApiKeyOut,
    summary="Revoke an API key: it fails from the next request on, in every web process",
)
def post_revoke(key_id: Ref, caller: OpsKey, session: DbSession, keys: ProcessKeys) -> ApiKeyOut:
    with changing_api_keys(keys.epoch), session.begin():
        key = get_api_key(session, key_id=key_id, organisation_id=caller.organisation_id)
        revoke_api_key(session, key=key, now=utcnow())
        return ApiKeyOut.of(key)


@router.post(
    "/{key_id}/rotate",
    status_code=201,
    response_model=RotatedKeyOut,
    summary="A new key with the same scopes (shown once); the old one is revoked "
    "after grace_seconds",
)
def post_rotate(
    key_id: Ref,
    caller: OpsKey,
    session: DbSession,
    keys: ProcessKeys,
    body: Annotated[RotateIn | None, Body()] = None,
) -> RotatedKeyOut:
    grace = timedelta(seconds=(body or RotateIn()).grace_seconds)
    with changing_api_keys(keys.epoch), session.begin():
        old = get_api_key(session, key_id=key_id, organisation_id=caller.organisation_id)
        new, plaintext = rotate_api_key(session, key=old, now=utcnow(), grace=grace)
        return RotatedKeyOut(key=plaintext, new=ApiKeyOut.of(new), old=ApiKeyOut.of(old))
