"""The workers' actors, by name and queue: the one place that names them.

Domain code writes outbox rows naming an actor; rollcall.messaging sends them
without importing the actors (so the web process and the scheduler never load
the workers); rollcall.workers.actors declares each actor under its name here.
"""

from __future__ import annotations

PROCESS_JOB = "process_job"
SEND_EMAIL = "send_email"
SEND_PLACEMENT_MAILS = "send_placement_mails"
RUN_REMINDER = "run_reminder"
REBUILD_CALENDAR = "rebuild_calendar"
DELIVER_WEBHOOK = "deliver_webhook"

#: Each actor's queue.
QUEUE_OF: dict[str, str] = {
    PROCESS_JOB: "jobs",
    SEND_EMAIL: "mail",
    SEND_PLACEMENT_MAILS: "mail",
    RUN_REMINDER: "mail",
    REBUILD_CALENDAR: "calendar",
    #: Its own queue: a slow receiver (10 s timeouts) never holds up jobs or mail.
    DELIVER_WEBHOOK: "webhooks",
}
