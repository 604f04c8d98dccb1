"""Erasing a person: the row stays, anonymised, so seat counts and payments
stay whole; nothing left names them.

- Enrollments in events that are not completed end (``removed``, no mail to
  them); each freed seat promotes the next in line in the same transaction.
  Enrollments in completed events stay, as anonymous history; payments all stay.
- Queued mails to them are dropped (deleted before they leave); the mails
  already sent keep their record, with the address, name and context scrubbed.
- Their end-user tokens are revoked; bookmarks, calendar rows and trainer roles
  go; their details in job payloads, results and row errors are scrubbed.
- The ref becomes ``erased:<digest>:<row id>``: the same ref enrolled again is a
  new person, and a repeated erase finds the digest and answers the same
  (idempotent). The digest is a SHA-256 of the organisation and the ref: who
  knows the ref can confirm it was erased, nobody can read it back.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from rollcall.domain.enrollment.removal import end_enrollment
from rollcall.domain.errors.enrollment import AttendeeNotFound
from rollcall.models import Attendee, EmailMessage, Enrollment, Event, Job, Trainer
from rollcall.models.calendar import AttendeeToken, CalendarBookmark, CalendarEntry
from rollcall.models.enrollment import ACTIVE_STATUSES
from rollcall.models.jobs import FINAL_JOB_STATUSES

#: Mails not yet handed to a sender: dropped. A ``sending`` one is on its way.
DROPPED_STATES = ("queued", "retrying")
ERASED_DOMAIN = "erased.invalid"


@dataclass
class Erased:
    ref: str
    erased_at: datetime
    already: bool = False
    enrollments_ended: int = 0
    promoted: list[str] = field(default_factory=list)
    mails_dropped: int = 0
    tokens_revoked: int = 0


def _digest(organisation_id: uuid.UUID, ref: str) -> str:
    return "erased:" + hashlib.sha256(f"{organisation_id}:{ref}".encode()).hexdigest()[:40]


def scrub(value: Any, *, ref: str, email: str, marker: str, anonymous: str) -> Any:
    """Pure: ``value`` (JSON data) with every mention of the person replaced:
    a dict naming them (their ``ref`` next to an ``email``, their
    ``attendee_ref``, their ``email``) loses ref, email, name, zone and locale."""
    if isinstance(value, list):
        return [scrub(v, ref=ref, email=email, marker=marker, anonymous=anonymous) for v in value]
    if isinstance(value, str):
        return anonymous if value == email else value
    if not isinstance(value, dict):
        return value
    names_them = (
        (value.get("ref") == ref and "email" in value)
        or value.get("attendee_ref") == ref
        or value.get("email") == email
    )
    out = {
        k: scrub(v, ref=ref, email=email, marker=marker, anonymous=anonymous)
        for k, v in value.items()
    }
    if names_them:
        for key in ("ref", "attendee_ref"):
            if key in out:
                out[key] = marker
        if "email" in out:
            out["email"] = anonymous
        for key in ("name", "to_name"):
            if key in out:
                out[key] = ""
        for key in ("timezone", "locale"):
            if key in out:
                out[key] = None
    return out


def erase_attendee(
    session: Session, *, organisation_id: uuid.UUID, ref: str, now: datetime
) -> Erased:
    """Erase the person with this ref (see the module). Idempotent: a ref
    already erased answers with the first erase's moment and ``already``.
    Raises AttendeeNotFound for a ref the organisation never had."""
    digest = _digest(organisation_id, ref)
    attendee = session.scalar(
        select(Attendee).where(Attendee.organisation_id == organisation_id, Attendee.ref == ref)
    )
    if attendee is not None and attendee.erased_at is not None:
        return Erased(ref=ref, erased_at=attendee.erased_at, already=True)
    if attendee is None:
        prior = session.scalar(
            select(Attendee.erased_at)
            .where(Attendee.organisation_id == organisation_id, Attendee.ref.like(f"{digest}:%"))
            .order_by(Attendee.erased_at.desc())
            .limit(1)
        )
        if prior is None:
            raise AttendeeNotFound(ref=ref)
        return Erased(ref=ref, erased_at=prior, already=True)
    erased = Erased(ref=ref, erased_at=now)
    _end_enrollments(session, attendee, erased, now)
    marker = f"{digest}:{attendee.id.hex}"
    anonymous = f"erased-{attendee.id.hex}@{ERASED_DOMAIN}"
    email = attendee.email
    _forget_mails(session, attendee, erased, ref=ref, marker=marker, anonymous=anonymous)
    _scrub_jobs(session, organisation_id, ref=ref, email=email, marker=marker, anonymous=anonymous)
    erased.tokens_revoked = int(
        session.execute(  # type: ignore[attr-defined]
            update(AttendeeToken)
            .where(AttendeeToken.attendee_id == attendee.id, AttendeeToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
    )
    for model in (CalendarBookmark, Trainer, CalendarEntry):
        session.execute(
            delete(model)
            .where(model.attendee_id == attendee.id)  # type: ignore[attr-defined]
            .execution_options(synchronize_session=False)
        )
    attendee.ref = marker
    attendee.email = anonymous
    attendee.name = ""
    attendee.timezone = None
    attendee.locale = None
    attendee.updated_at = now
    attendee.erased_at = now
    session.flush()
    return erased


def _end_enrollments(session: Session, attendee: Attendee, erased: Erased, now: datetime) -> None:
    """End the active enrollments of events not completed, event by event in
    one order (each event's row lock first, as every seat change takes it)."""
    active = session.execute(
        select(Enrollment.id, Enrollment.event_id).where(
            Enrollment.attendee_id == attendee.id, Enrollment.status.in_(ACTIVE_STATUSES)
        )
    ).all()
    by_event: dict[uuid.UUID, list[uuid.UUID]] = {}
    for enrollment_id, event_id in active:
        by_event.setdefault(event_id, []).append(enrollment_id)
    for event_id in sorted(by_event, key=str):
        event = session.get(Event, event_id, with_for_update=True, populate_existing=True)
        if event is None or event.status == "completed":
            continue
        for enrollment_id in by_event[event_id]:
            _, promoted = end_enrollment(
                session,
                event=event,
                enrollment_id=enrollment_id,
                status="removed",
                now=now,
                notify=False,
            )
            erased.enrollments_ended += 1
            erased.promoted += [p.attendee.ref for p in promoted]


def _forget_mails(
    session: Session,
    attendee: Attendee,
    erased: Erased,
    *,
    ref: str,
    marker: str,
    anonymous: str,
) -> None:
    to_them = (
        EmailMessage.organisation_id == attendee.organisation_id,
        or_(EmailMessage.attendee_id == attendee.id, EmailMessage.to_address == attendee.email),
    )
    erased.mails_dropped = int(
        session.execute(  # type: ignore[attr-defined]
            delete(EmailMessage)
            .where(*to_them, EmailMessage.state.in_(DROPPED_STATES))
            .execution_options(synchronize_session=False)
        ).rowcount
    )
    for mail in session.scalars(select(EmailMessage).where(*to_them)):
        mail.to_address = anonymous
        mail.to_name = ""
        mail.context = scrub(
            mail.context, ref=ref, email=attendee.email, marker=marker, anonymous=anonymous
        )


def _scrub_jobs(
    session: Session,
    organisation_id: uuid.UUID,
    *,
    ref: str,
    email: str,
    marker: str,
    anonymous: str,
) -> None:
    """The person's details in finished jobs' payloads, results and row errors
    (a text search first: only the jobs that may name them are read). A job
    not yet finished is left as accepted: applied after the erase, it enrolls
    the ref as a new person, as the upstream system asked."""
    mentions = or_(
        *(
            cast(column, String).contains(needle, autoescape=True)
            for column in (Job.payload, Job.result, Job.errors)
            for needle in (ref, email)
        )
    )
    for job in session.scalars(
        select(Job).where(
            Job.organisation_id == organisation_id,
            Job.status.in_(FINAL_JOB_STATUSES),
            mentions,
        )
    ):
        args = {"ref": ref, "email": email, "marker": marker, "anonymous": anonymous}
        job.payload = scrub(job.payload, **args)
        job.result = scrub(job.result, **args)
        job.errors = scrub(job.errors, **args)
