"""SQLAlchemy 2.0 tables, engine and session setup, and Alembic migrations."""

from models.base import Base
from models.calendar import AttendeeToken, CalendarBookmark, CalendarEntry
from models.enrollment import Enrollment, Payment
from models.events import Event, EventSession, Occurrence, Trainer
from models.jobs import Job, OutboxMessage
from models.mail import EmailMessage
from models.people import Attendee
from models.reminders import ReminderRun
from models.tenancy import ApiKey, Organisation

__all__ = [
    "ApiKey",
    "Attendee",
    "AttendeeToken",
    "Base",
    "CalendarBookmark",
    "CalendarEntry",
    "EmailMessage",
    "Enrollment",
    "Event",
    "EventSession",
    "Job",
    "Occurrence",
    "Organisation",
    "OutboxMessage",
    "Payment",
    "ReminderRun",
    "Trainer",
]

# Installs the after_flush listener that keeps the calendar cache in step with
# every write (imported last: it needs the models above).
import domain.calendar_sync  # noqa: F401
