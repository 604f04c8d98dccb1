"""Which dead letters a dashboard user may see and steer.

Platform operators see the whole queue. Anyone else sees the messages about
their own organisation's jobs and mail, found through the ids they carry.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from rollcall.domain.jobs import actor_names
from rollcall.intake.ops.session import Operator
from rollcall.messaging.queue_inspect import DeadLetter
from rollcall.models import EmailMessage, Job


def _row_id(letter: DeadLetter) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(letter.args[0])) if letter.args else None
    except ValueError:
        return None


def visible_dead_letters(
    session: Session, who: Operator, letters: list[DeadLetter]
) -> list[DeadLetter]:
    if who.is_operator:
        return letters
    job_ids = {_row_id(x) for x in letters if x.actor == actor_names.PROCESS_JOB} - {None}
    mail_ids = {_row_id(x) for x in letters if x.actor == actor_names.SEND_EMAIL} - {None}
    ours: set[uuid.UUID] = set()
    if job_ids:
        ours |= set(
            session.scalars(
                select(Job.id).where(
                    Job.id.in_(job_ids), Job.organisation_id == who.organisation_id
                )
            )
        )
    if mail_ids:
        ours |= set(
            session.scalars(
                select(EmailMessage.id).where(
                    EmailMessage.id.in_(mail_ids),
                    EmailMessage.organisation_id == who.organisation_id,
                )
            )
        )
    return [letter for letter in letters if _row_id(letter) in ours]
