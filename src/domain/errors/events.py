"""Events, their occurrences and sessions: lookups, admin changes and lifecycle."""

from __future__ import annotations

from rollcall.domain.errors import Conflict, Invalid, NotFound


class EventNotFound(NotFound):
    """Event not found."""

    code = "EVENT_NOT_FOUND"


class OccurrenceNotFound(NotFound):
    """Occurrence not found in this event."""

    code = "OCCURRENCE_NOT_FOUND"


class SessionNotFound(NotFound):
    """Session not found in this event."""

    code = "SESSION_NOT_FOUND"


class EventRefTaken(Conflict):
    """Another event of this organisation already has this ref."""

    code = "EVENT_REF_TAKEN"


class EventAlreadyPublished(Conflict):
    """The event is already published."""

    code = "EVENT_ALREADY_PUBLISHED"


class EventCompleted(Conflict):
    """The event is completed."""

    code = "EVENT_COMPLETED"


class EventCancelled(Conflict):
    """The event is cancelled."""

    code = "EVENT_CANCELLED"


class EventNotDraft(Conflict):
    """This can only be changed while the event is a draft."""

    code = "EVENT_NOT_DRAFT"


class SessionOccurrenceRemoved(Conflict):
    """The change removes dates a session runs on; point the session at dates that stay first."""

    code = "SESSION_OCCURRENCE_REMOVED"


class EventAlreadyUnpublished(Conflict):
    """The event is not published."""

    code = "EVENT_ALREADY_UNPUBLISHED"


class EventHasEnrollments(Conflict):
    """The event has enrollments: seats taken (unpublish) or records kept (delete)."""

    code = "EVENT_HAS_ENROLLMENTS"


class EventIsPublished(Conflict):
    """A published event cannot be deleted; unpublish it first."""

    code = "EVENT_IS_PUBLISHED"


class EventAlreadyCancelled(Conflict):
    """The event is already cancelled."""

    code = "EVENT_ALREADY_CANCELLED"


class OccurrenceAlreadyCancelled(Conflict):
    """The occurrence is already cancelled."""

    code = "OCCURRENCE_ALREADY_CANCELLED"


class OccurrenceEnded(Conflict):
    """The occurrence has already ended."""

    code = "OCCURRENCE_ENDED"


class OccurrenceCancelled(Conflict):
    """The occurrence is cancelled."""

    code = "OCCURRENCE_CANCELLED"


class NoUpcomingOccurrence(Conflict):
    """The event has no upcoming occurrence to remind about; name one."""

    code = "NO_UPCOMING_OCCURRENCE"


class CapacityBelowEnrolled(Conflict):
    """The capacity cannot go below the number of enrolled attendees."""

    code = "CAPACITY_BELOW_ENROLLED"


class WaitingListNotEmpty(Conflict):
    """The waiting list cannot be turned off while attendees are on it."""

    code = "WAITING_LIST_NOT_EMPTY"


class MinAboveMax(Invalid):
    """min_subscriptions cannot exceed max_subscriptions."""

    code = "MIN_ABOVE_MAX"


class RecurrenceTooLarge(Invalid):
    """The rule makes too many occurrences at once; start it later or make it sparser."""

    code = "RECURRENCE_TOO_LARGE"


# Offers (seed 000: an offer groups events) -------------------------------------


class OfferNotFound(NotFound):
    """Offer not found."""

    code = "OFFER_NOT_FOUND"


class OfferRefTaken(Conflict):
    """Another offer of this organisation already has this ref."""

    code = "OFFER_REF_TAKEN"


class OfferHasEvents(Conflict):
    """The offer still holds events; delete them or move them to another offer first."""

    code = "OFFER_HAS_EVENTS"


class OccurrenceStartTaken(Conflict):
    """Another date of this event already starts at that moment."""

    code = "OCCURRENCE_START_TAKEN"


class OccurrenceInPast(Invalid):
    """A date can only be moved to a start in the future."""

    code = "OCCURRENCE_IN_PAST"


class OrganisationNotFound(NotFound):
    """Organisation not found."""

    code = "ORGANISATION_NOT_FOUND"


class UnsupportedFields(Invalid):
    """Rollcall does not model these fields; send them empty or leave them out."""

    code = "UNSUPPORTED_FIELDS"
