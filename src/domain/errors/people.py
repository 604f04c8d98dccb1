"""Attendees as a resource: created, changed, exported, erased."""

from __future__ import annotations

from rollcall.domain.errors import Conflict


class AttendeeRefTaken(Conflict):
    """Another attendee of yours has this ref."""

    code = "ATTENDEE_REF_TAKEN"
