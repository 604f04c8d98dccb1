"""SQLAlchemy 2.0 tables, engine and session setup, and Alembic migrations."""

from rollcall.models.base import Base
from rollcall.models.calendar import AttendeeToken, CalendarBookmark, CalendarEntry
from rollcall.models.enrollment import Enrollment, Payment
from rollcall.models.events import Event, EventSession, Occurrence, Trainer
from rollcall.models.jobs import Job, OutboxMessage
from rollcall.models.listing import EventLabel
from rollcall.models.mail import EmailMessage
from rollcall.models.offers import Offer
from rollcall.models.people import Attendee
from rollcall.models.reminders import ReminderRun
from rollcall.models.tenancy import ApiKey, DashboardSession, Organisation
from rollcall.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiKey",
    "Attendee",
    "AttendeeToken",
    "Base",
    "CalendarBookmark",
    "CalendarEntry",
    "DashboardSession",
    "EmailMessage",
    "Enrollment",
    "Event",
    "EventLabel",
    "EventSession",
    "Job",
    "Occurrence",
    "Offer",
    "Organisation",
    "OutboxMessage",
    "Payment",
    "ReminderRun",
    "Trainer",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
]
