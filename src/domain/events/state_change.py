"""Seed 000's ``updateOfferEvent``: one call that changes fields and also the
event's state (``publish: true/false``, ``cancelled: true``).

Only composition: each step is the function REST's own route calls
(admin.update_event, catalog.publish_event, admin.unpublish_event,
admin.cancel_event), with its refusals. ``publish`` and ``cancelled`` are
states, not actions: a value the event already has is no change, as for any
other field of update_event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rollcall.domain.errors.events import EventCancelled
from rollcall.domain.events.admin import cancel_event, unpublish_event, update_event
from rollcall.domain.events.catalog import publish_event
from rollcall.models import Event


@dataclass(frozen=True)
class EventChanged:
    """What ``change_event`` did that its participants may need to hear of."""

    #: Cancelled by this call.
    cancelled: bool
    #: The place (venue, online_url) before, if this call changed it; else None.
    old_place: dict[str, Any] | None


def change_event(
    session: Session,
    *,
    event: Event,
    changes: dict[str, Any],
    publish: bool | None,
    cancelled: bool | None,
    now: datetime,
    horizon_until: datetime,
) -> EventChanged:
    """Apply ``changes`` and the state asked for; returns whether the event was
    cancelled now and the place it had if it changed (the caller records the
    jobs of ``change_notice.notices_due`` in the same transaction).

    Unpublishing comes before the field changes (a draft takes draft-only
    changes), publishing after them (the draft is changed, then published);
    cancelling comes last. ``cancelled: false`` on a cancelled event is
    EventCancelled: a cancellation is not undone. Raises what each step raises.
    """
    if publish is False and event.status != "draft":
        unpublish_event(session, event=event, now=now)
    old_place = None
    if changes:
        old_place = update_event(
            session, event=event, changes=changes, now=now, horizon_until=horizon_until
        )
    if publish is True and event.status != "published":
        publish_event(session, event=event, now=now)
    if cancelled is False and event.cancelled:
        raise EventCancelled()
    if cancelled is True and not event.cancelled:
        cancel_event(session, event=event, now=now)
        return EventChanged(cancelled=True, old_place=old_place)
    return EventChanged(cancelled=False, old_place=old_place)
