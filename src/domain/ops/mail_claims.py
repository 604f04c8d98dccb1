"""Which mail a sender may claim, and when a mail can never go: the one rule
every sender and the stalled-mail requeue ask (``claimable_before``).

A mail may be claimed while it waits (``queued``; for ``send_email`` also
``retrying``) or its sender's lease is over (``sending``, updated before the
lease cutoff), and only before its send deadline (``not_after``: a
before-reminder's occurrence start). One past its deadline that nobody holds
is made ``expired`` (``expire_mail``): final, never sent, visible to
operators, and holding back no later mail (``in_order``). Order: a mail with
an order key leaves only after the earlier mails of its attendee and event.

Here in the domain, not in the workers, because the scheduler's requeue asks
it too and the workers and the scheduler may not import each other.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, update
from sqlalchemy.orm import Session, aliased

from rollcall.models import EmailMessage, Enrollment
from rollcall.models.mail import UNSENT_STATES

logger = logging.getLogger("rollcall.mail")


#: The reason an expired mail shows operators (``last_error``).
EXPIRED_REASON = "not sent: its send deadline passed before it could go (the event had started)"

#: The states a sender may take a mail up from. A reminder run claims only
#: ``queued`` mail; ``send_email`` also the mail it put aside (``retrying``).
RUN_CLAIMS: tuple[str, ...] = ("queued",)
RETRY_CLAIMS: tuple[str, ...] = ("queued", "retrying")


def past_deadline(now: Any, mail: Any = EmailMessage) -> ColumnElement[bool]:
    """Whether a mail's ``not_after`` has come at ``now``: from then on it is
    never sent (claimable_before is where that is decided)."""
    return and_(mail.not_after.is_not(None), mail.not_after <= now)


def _unheld(cutoff: Any, states: tuple[str, ...]) -> ColumnElement[bool]:
    m = EmailMessage
    return or_(m.state.in_(states), and_(m.state == "sending", m.updated_at < cutoff))


def claimable_before(
    cutoff: Any, now: Any, *, states: tuple[str, ...] = RUN_CLAIMS
) -> ColumnElement[bool]:
    """The one rule for whether a sender may claim a mail at ``now``: in one of
    ``states``, or ``sending`` with its lease taken before ``cutoff``; and not
    past its send deadline (``not_after``). ``cutoff`` and ``now`` are
    datetimes or bind parameters (a prepared statement). The ledger's claims,
    ``deliver_email`` and the stalled-mail requeue all ask this. A mail nobody
    holds that it refuses for the deadline alone is ``expirable_before``."""
    return and_(_unheld(cutoff, states), ~past_deadline(now))


def expirable_before(
    cutoff: Any, now: Any, *, states: tuple[str, ...] = RETRY_CLAIMS
) -> ColumnElement[bool]:
    """A mail nobody holds whose send deadline has come: it will never be
    claimed, and ends ``expired`` (expire_mail)."""
    return and_(_unheld(cutoff, states), past_deadline(now))


def expire_mail(
    session: Session, which: ColumnElement[bool], *, cutoff: datetime, now: datetime
) -> list[uuid.UUID]:
    """Make every ``which`` mail nobody holds that is past its send deadline
    ``expired``, its reason in ``last_error`` for operators; returns their ids.
    Expired is final (never sent) and, not being unsent, holds back no later
    mail of its attendee and event."""
    m = EmailMessage
    ids = list(
        session.scalars(
            update(m)
            .where(which, expirable_before(cutoff, now))
            .values(state="expired", updated_at=now, last_error=EXPIRED_REASON)
            .returning(m.id)
            .execution_options(synchronize_session=False)
        )
    )
    if ids:
        logger.warning("mail expired", extra={"count": len(ids), "reason": EXPIRED_REASON})
    return ids


def in_order(now: Any) -> ColumnElement[bool]:
    """Whether a mail may leave at ``now`` as far as order goes (correlated to
    the ``email_messages`` row being claimed): it has no order key, or every
    earlier mail of its attendee and event is out, i.e.

    - no mail of theirs with a smaller key is queued, sending or retrying and
      still before its send deadline (one past it will never go); and
    - no enrollment of theirs in the event was placed set-wise with a smaller
      key whose mail the mail worker has not written yet (``mail_key`` with no
      mail row of that key: domain.enrollment.placement_mails).

    Both are probes of ix_email_messages_order (and ix_enrollments_attendee)
    over the few rows of one attendee. Sent, failed or expired mails hold
    nothing back.
    """
    m = EmailMessage
    earlier = aliased(EmailMessage)
    placed = aliased(EmailMessage)
    e = Enrollment
    mail_waiting = exists().where(
        earlier.attendee_id == m.attendee_id,
        earlier.event_id == m.event_id,
        earlier.order_key < m.order_key,
        earlier.state.in_(UNSENT_STATES),
        ~past_deadline(now, earlier),
    )
    mail_unwritten = exists().where(
        e.attendee_id == m.attendee_id,
        e.event_id == m.event_id,
        e.mail_key < m.order_key,
        ~exists().where(
            placed.attendee_id == e.attendee_id,
            placed.event_id == e.event_id,
            placed.order_key == e.mail_key,
        ),
    )
    return or_(m.order_key.is_(None), and_(~mail_waiting, ~mail_unwritten))
