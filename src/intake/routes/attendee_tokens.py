"""End-user tokens for the calendar, issued, listed and revoked by the upstream system
(students:write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from rollcall.domain.access.attendee_tokens import (
    create_attendee_token,
    get_attendee,
    list_attendee_tokens,
    revoke_attendee_token,
)
from rollcall.domain.clock import utcnow
from rollcall.intake.calendar_schemas import TokenInfo, TokenList, TokenOut
from rollcall.intake.deps import Caller, DbSession, require
from rollcall.intake.fields import Ref
from rollcall.models.calendar import AUTHENTICATED

router = APIRouter(prefix="/v1/attendees", tags=["calendar"])


@router.post(
    "/{ref}/tokens",
    status_code=201,
    response_model=TokenOut,
    summary="Issue an end-user token (scope AUTHENTICATED) for one attendee; shown once",
)
def post_token(
    ref: Annotated[Ref, Path(description="The attendee's ref (or id)")],
    caller: Annotated[Caller, Depends(require("students:write"))],
    session: DbSession,
) -> TokenOut:
    with session.begin():
        attendee = get_attendee(session, organisation_id=caller.organisation_id, id_or_ref=ref)
        token, plaintext = create_attendee_token(session, attendee=attendee, now=utcnow())
    return TokenOut(
        token=plaintext,
        token_id=token.id,
        attendee_id=attendee.id,
        attendee_ref=attendee.ref,
        scopes=[AUTHENTICATED],
        created_at=token.created_at,
    )


AttendeeRef = Annotated[Ref, Path(description="The attendee's ref (or id)")]
Issuer = Annotated[Caller, Depends(require("students:write"))]


@router.get(
    "/{ref}/tokens",
    response_model=TokenList,
    summary="List an attendee's end-user tokens (metadata only, revoked ones too)",
)
def get_tokens(ref: AttendeeRef, caller: Issuer, session: DbSession) -> TokenList:
    attendee = get_attendee(session, organisation_id=caller.organisation_id, id_or_ref=ref)
    return TokenList(
        tokens=[
            TokenInfo(
                token_id=token.id,
                attendee_ref=attendee.ref,
                prefix=token.prefix,
                scopes=[token.scope],
                created_at=token.created_at,
                revoked_at=token.revoked_at,
            )
            for token in list_attendee_tokens(session, attendee=attendee)
        ]
    )


@router.delete(
    "/{ref}/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke one end-user token: it fails from its next request on",
)
def delete_token(ref: AttendeeRef, token_id: Ref, caller: Issuer, session: DbSession) -> Response:
    with session.begin():
        attendee = get_attendee(session, organisation_id=caller.organisation_id, id_or_ref=ref)
        revoke_attendee_token(session, attendee=attendee, token_id=token_id, now=utcnow())
    return Response(status_code=204)
