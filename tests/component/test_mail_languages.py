"""Mail in the attendee's language, on SQLite and the StubBroker: every message
rendered in English, Dutch and German with its Babel-formatted date, each mail
producer (enrollment outcomes, bulk placements, reminder runs, cancellations)
carrying the attendee's locale and zone to the mail, and a locale that is not
one refused at the edge with INVALID_LOCALE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rollcall.config.settings import get_settings
from rollcall.scheduler.reminder_producers import produce_reminders
from rollcall.workers.mail_render import render_email
from tests.support.factories import job, published_event
from tests.support.mail_languages import (
    CONTEXT,
    DATED,
    DAYS,
    FOOTERS,
    GREETINGS,
    LANGUAGES,
    STARTS,
    SUBJECTS,
    enroll_speaking,
    html_of,
    mail_to,
    text_of,
)
from tests.support.stack import Stack

START = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Amsterdam
MOMENT = START - timedelta(minutes=1440)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(SUBJECTS))
def test_each_message_renders_in_each_language_with_babels_dates(name: str, language: str) -> None:
    mail = render_email(get_settings().templates_dir, name, CONTEXT, locale=language)

    assert mail.subject.startswith(SUBJECTS[name][language]), mail.subject
    assert mail.text.startswith(GREETINGS[language]), mail.text
    assert f"<p>{GREETINGS[language]}</p>" in mail.html
    assert FOOTERS[language] in mail.html
    if name in DATED:
        assert STARTS[language] in mail.text, mail.text
        assert STARTS[language] in mail.html
    if name in ("occurrence_cancelled", "reminder_before"):
        assert DAYS[language] in mail.subject


def test_each_producer_mails_in_the_attendees_language(component_stack: Stack) -> None:
    # Given an event of one seat with a waiting list and a reminder a day before
    stack = component_stack
    key = stack.key()
    published_event(
        stack,
        key,
        ref="intro",
        max_subscriptions=1,
        waiting_list=True,
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=3)).isoformat(),
        reminder_before_minutes=1440,
    )

    # When a Dutch attendee (Belgian Dutch) takes the seat, an Austrian waits
    # in New York's zone, and a French one (no French mail) waits too
    enroll_speaking(stack, key, "intro", "ada", "nl-BE")
    stack.drain()
    enroll_speaking(stack, key, "intro", "bob", "de-AT", timezone="America/New_York")
    enroll_speaking(stack, key, "intro", "cyd", "fr")
    stack.drain()

    # Then each got their outcome in their language, dates for their locale
    confirmed = mail_to(stack, "ada", "U bent ingeschreven: Intro to Rollcall")
    assert "dinsdag 2 maart 2027, 10:00 Midden-Europese standaardtijd tot 13:00" in text_of(
        confirmed
    )
    assert '<html lang="nl">' in html_of(confirmed)
    assert "Platz 1" in text_of(mail_to(stack, "bob", "Sie stehen auf der Warteliste: "))
    assert "place 2 in line" in text_of(mail_to(stack, "cyd", "You are on the waiting list: "))

    # When the organiser removes ada: bob is promoted, in German, at New York's time
    removed = stack.client.delete("/v1/events/intro/attendees/ada", headers=stack.auth(key))
    assert removed.status_code == 202, removed.text
    stack.drain()
    assert mail_to(stack, "ada", "U bent uitgeschreven voor Intro to Rollcall")
    promoted = text_of(mail_to(stack, "bob", "Ein Platz für Sie: Intro to Rollcall"))
    assert "Dienstag, 2. März 2027, 04:00 Nordamerikanische Ostküsten-Normalzeit bis 07:00" in (
        promoted
    )

    # And the reminder run speaks German to bob
    assert produce_reminders(stack.settings, now=MOMENT) == 1
    stack.drain()
    reminder = mail_to(stack, "bob", "Erinnerung: Intro to Rollcall am 2. März 2027, 04:00")
    assert "Zur Erinnerung: Sie sind angemeldet für „Intro to Rollcall“." in text_of(reminder)

    # And the cancellation reaches bob in German and cyd in English
    cancelled = stack.client.post(
        "/v1/events/intro/cancel", json={"reason": "Trainer ill"}, headers=stack.auth(key)
    )
    assert cancelled.status_code == 202, cancelled.text
    stack.drain()
    german = text_of(mail_to(stack, "bob", "Abgesagt: Intro to Rollcall"))
    assert "Geplant war der Beginn am Dienstag, 2. März 2027, 04:00" in german
    assert "Grund: Trainer ill" in german
    english = text_of(mail_to(stack, "cyd", "Cancelled: Intro to Rollcall"))
    assert "Tuesday, March 2, 2027, 10:00\u202fAM Central European Standard Time" in english


def test_bulk_placements_mail_each_row_in_its_language(component_stack: Stack) -> None:
    # Given an event of two seats with a waiting list
    stack = component_stack
    key = stack.key()
    published_event(
        stack,
        key,
        ref="bulk",
        max_subscriptions=2,
        waiting_list=True,
        starts_at=START.isoformat(),
        ends_at=(START + timedelta(hours=3)).isoformat(),
    )

    # When a CSV roster enrolls a Dutch, an unlabelled and a German attendee
    roster = (
        "ref,email,name,locale\n"
        "ada,ada@example.org,Ada,nl\n"
        "bob,bob@example.org,Bob,\n"
        "cyd,cyd@example.org,Cyd,de-DE\n"
    )
    response = stack.client.post(
        "/v1/events/bulk/enrollments/bulk",
        content=roster,
        headers=stack.auth(key) | {"Content-Type": "text/csv"},
    )
    assert response.status_code == 202, response.text
    stack.drain()

    # Then each mail is in the row's language
    assert job(stack, key, response.json()["id"])["status"] == "succeeded"
    assert "dinsdag 2 maart 2027" in text_of(mail_to(stack, "ada", "U bent ingeschreven: "))
    assert "Tuesday, March 2, 2027" in text_of(mail_to(stack, "bob", "You are enrolled: "))
    assert "(Platz 1, " in text_of(mail_to(stack, "cyd", "Sie stehen auf der Warteliste: "))


@pytest.mark.parametrize("locale", ["xx", "tlh", "de AT", "nl--BE", "english"])
def test_a_locale_babel_does_not_know_is_refused_with_its_code(
    component_stack: Stack, locale: str
) -> None:
    # Given a published event
    stack = component_stack
    key = stack.key()
    published_event(stack, key, ref="ev")

    # When an attendee is enrolled with a locale that is none
    body = {"attendee": {"ref": "ada", "email": "ada@example.org", "locale": locale}}
    response = stack.client.post("/v1/events/ev/enrollments", json=body, headers=stack.auth(key))

    # Then the request is refused with INVALID_LOCALE, saying where, and no job exists
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_LOCALE"
    assert error["message"].startswith("attendee.locale: ")
    assert error["details"]["errors"][0]["type"] == "locale_invalid"
    listed = stack.client.get("/v1/events/ev/enrollments", headers=stack.auth(key)).json()
    assert listed["items"] == []


def test_a_bulk_row_with_a_bad_locale_fails_with_its_code(component_stack: Stack) -> None:
    stack = component_stack
    key = stack.key()
    published_event(stack, key, ref="ev")
    rows = [
        {"ref": "ada", "email": "ada@example.org", "locale": "nl_BE"},
        {"ref": "bob", "email": "bob@example.org", "locale": "klingon"},
    ]
    response = stack.client.post(
        "/v1/events/ev/enrollments/bulk",
        json={"atomic": False, "attendees": rows},
        headers=stack.auth(key),
    )
    assert response.status_code == 202, response.text
    stack.drain()

    done = job(stack, key, response.json()["id"])
    assert done["status"] == "partially_succeeded"
    assert [(e["row"], e["attendee_ref"], e["code"]) for e in done["errors"]] == [
        (2, "bob", "INVALID_LOCALE")
    ]
    assert mail_to(stack, "ada", "U bent ingeschreven: ")
