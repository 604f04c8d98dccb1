"""The event types a subscription can ask for: the one list."""

from __future__ import annotations

JOB_SUCCEEDED = "job.succeeded"
JOB_PARTIALLY_SUCCEEDED = "job.partially_succeeded"
JOB_FAILED = "job.failed"

EVENT_TYPES: tuple[str, ...] = (
    JOB_SUCCEEDED,
    JOB_PARTIALLY_SUCCEEDED,
    JOB_FAILED,
    "enrollment.enrolled",
    "enrollment.waitlisted",
    "enrollment.promoted",
    "enrollment.moved",
    "enrollment.removed",
    "enrollment.cancelled",
    "event.published",
    "event.changed",
    "event.cancelled",
    "occurrence.cancelled",
    "mail.failed",
)

#: A job's final status -> the type its end is sent as.
JOB_TYPE_OF_STATUS = {
    "succeeded": JOB_SUCCEEDED,
    "partially_succeeded": JOB_PARTIALLY_SUCCEEDED,
    "failed": JOB_FAILED,
}
