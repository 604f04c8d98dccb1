"""What a mail says in each language Rollcall ships: the phrases tests look
for, and a context every message renders from."""

from __future__ import annotations

from typing import Any

from tests.support.stack import Stack

#: The locale folders of templates/email (en is the fallback).
LANGUAGES = ("en", "nl", "de")

#: Message -> language -> how its subject starts.
SUBJECTS: dict[str, dict[str, str]] = {
    "enrollment_confirmed": {
        "en": "You are enrolled: ",
        "nl": "U bent ingeschreven: ",
        "de": "Sie sind angemeldet: ",
    },
    "enrollment_waitlisted": {
        "en": "You are on the waiting list: ",
        "nl": "U staat op de wachtlijst: ",
        "de": "Sie stehen auf der Warteliste: ",
    },
    "enrollment_promoted": {
        "en": "A seat is yours: ",
        "nl": "Er is een plaats voor u: ",
        "de": "Ein Platz für Sie: ",
    },
    "enrollment_removed": {
        "en": "You were removed from ",
        "nl": "U bent uitgeschreven voor ",
        "de": "Sie wurden abgemeldet: ",
    },
    "enrollment_cancelled": {
        "en": "Enrollment cancelled: ",
        "nl": "Inschrijving geannuleerd: ",
        "de": "Anmeldung storniert: ",
    },
    "event_cancelled": {"en": "Cancelled: ", "nl": "Geannuleerd: ", "de": "Abgesagt: "},
    "occurrence_cancelled": {
        "en": "Date cancelled: ",
        "nl": "Datum geannuleerd: ",
        "de": "Termin abgesagt: ",
    },
    "reminder_before": {"en": "Reminder: ", "nl": "Herinnering: ", "de": "Erinnerung: "},
    "reminder_after": {
        "en": "Thank you for attending ",
        "nl": "Bedankt voor uw deelname aan ",
        "de": "Vielen Dank für Ihre Teilnahme: ",
    },
}

GREETINGS = {"en": "Hello Ada,", "nl": "Beste Ada,", "de": "Guten Tag Ada,"}
FOOTERS = {
    "en": "Sent by Rollcall on behalf of the organiser.",
    "nl": "Verstuurd door Rollcall namens de organisator.",
    "de": "Gesendet von Rollcall im Auftrag des Veranstalters.",
}

#: 2031-03-01 09:00 UTC in Europe/Amsterdam, as Babel writes it (``datetime`` filter).
STARTS = {
    "en": "Saturday, March 1, 2031, 10:00\u202fAM Central European Standard Time",
    "nl": "zaterdag 1 maart 2031, 10:00 Midden-Europese standaardtijd",
    "de": "Samstag, 1. März 2031, 10:00 Mitteleuropäische Normalzeit",
}
#: The same day in a subject (``date("long")``).
DAYS = {"en": "March 1, 2031", "nl": "1 maart 2031", "de": "1. März 2031"}

#: Messages whose body shows when the event (or date) starts.
DATED = frozenset(
    {
        "enrollment_confirmed",
        "enrollment_promoted",
        "event_cancelled",
        "occurrence_cancelled",
        "reminder_before",
        "reminder_after",
    }
)

CONTEXT: dict[str, Any] = {
    "event": {
        "id": "e",
        "ref": "r",
        "name": "Intro",
        "description": "",
        "type": "TRAINING",
        "timezone": "Europe/Amsterdam",
        "starts_at": "2031-03-01T09:00:00+00:00",
        "ends_at": "2031-03-01T10:00:00+00:00",
    },
    "occurrence": {
        "id": "o",
        "starts_at": "2031-03-01T09:00:00+00:00",
        "ends_at": "2031-03-01T10:00:00+00:00",
    },
    "attendee": {"ref": "a", "name": "Ada", "email": "a@x.org", "locale": None, "timezone": None},
    "enrollment": {"id": "n", "status": "enrolled", "waitlist_position": 2},
    "reason": "",
    "other_dates": 1,
    "attach_calendar": True,
    # event_changed: a date moved a week on, for an attendee
    "role": "attendee",
    "change": {
        "kind": "time",
        "old": {"starts_at": "2031-03-01T09:00:00+00:00", "ends_at": "2031-03-01T10:00:00+00:00"},
        "new": {"starts_at": "2031-03-08T09:00:00+00:00", "ends_at": "2031-03-08T10:00:00+00:00"},
    },
    "calendar_dates": [],
    # enrollment_moved: where the enrollment was
    "was": {
        "status": "enrolled",
        "starts_at": "2031-02-22T09:00:00+00:00",
        "ends_at": "2031-02-22T10:00:00+00:00",
        "session": None,
    },
}


def enroll_speaking(
    stack: Stack, key: str, event: str, ref: str, locale: str, timezone: str | None = None
) -> dict[str, Any]:
    """Enroll ``ref`` over HTTP with a locale (and a time zone)."""
    attendee: dict[str, Any] = {"ref": ref, "email": f"{ref}@example.org", "name": ref.title()}
    attendee |= {"locale": locale} | ({"timezone": timezone} if timezone else {})
    response = stack.client.post(
        f"/v1/events/{event}/enrollments", json={"attendee": attendee}, headers=stack.auth(key)
    )
    assert response.status_code == 202, response.text
    return dict(response.json())


def mail_to(stack: Stack, ref: str, subject_start: str) -> Any:
    """The one mail in the sink to ``ref`` whose subject starts so."""
    found = [
        m
        for m in stack.sink.messages
        if m["To"].addresses[0].addr_spec == f"{ref}@example.org"
        and str(m["Subject"]).startswith(subject_start)
    ]
    seen = [(m["To"].addresses[0].addr_spec, str(m["Subject"])) for m in stack.sink.messages]
    assert len(found) == 1, seen
    return found[0]


def text_of(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("plain",)).get_content())


def html_of(mail: Any) -> str:
    return str(mail.get_body(preferencelist=("html",)).get_content())
