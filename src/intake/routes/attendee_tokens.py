"""End-user tokens for the calendar, issued by the upstream system (students:write)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from rollcall.domain.access.attendee_tokens import create_attendee_token, get_attendee
from rollcall.domain.clock import utcnow
from rollcall.intake.calendar_schemas import TokenOut
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
