"""Mail delivery state for operators (scope ``ops``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from rollcall.intake.deps import Caller, DbSession, require
from rollcall.models import EmailMessage
from rollcall.models.mail import EmailState

router = APIRouter(prefix="/v1/emails", tags=["emails"])


class EmailOut(BaseModel):
    id: uuid.UUID
    template: str
    to_address: str
    to_name: str
    state: str
    attempts: int
    last_error: str | None
    job_id: uuid.UUID | None
    run_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime | None
    sent_at: datetime | None

    @classmethod
    def of(cls, mail: EmailMessage) -> EmailOut:
        return cls(
            id=mail.id,
            template=mail.template,
            to_address=mail.to_address,
            to_name=mail.to_name,
            state=mail.state,
            attempts=mail.attempts,
            last_error=mail.last_error,
            job_id=mail.job_id,
            run_id=mail.run_id,
            created_at=mail.created_at,
            updated_at=mail.updated_at,
            sent_at=mail.sent_at,
        )


class EmailList(BaseModel):
    items: list[EmailOut]


@router.get("", response_model=EmailList, summary="List mails and their delivery state")
def list_emails(
    caller: Annotated[Caller, Depends(require("ops"))],
    session: DbSession,
    status: Annotated[EmailState | None, Query(description="Only mails in this state")] = None,
    run_id: Annotated[uuid.UUID | None, Query(description="Only one reminder run's mails")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EmailList:
    """Newest first, in the caller's organisation."""
    query = select(EmailMessage).where(EmailMessage.organisation_id == caller.organisation_id)
    if status is not None:
        query = query.where(EmailMessage.state == status)
    if run_id is not None:
        query = query.where(EmailMessage.run_id == run_id)
    query = query.order_by(EmailMessage.created_at.desc(), EmailMessage.id).limit(limit)
    return EmailList(items=[EmailOut.of(mail) for mail in session.scalars(query)])
