"""The change notice and the place block, rendered (pure): every locale
includes the one shared ``_venue`` block, in its own words; the .ics of a mail
keeps the date's UID with its SEQUENCE and place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from icalendar import Calendar

from rollcall.config.settings import get_settings
from rollcall.domain.events.place import (
    geo,
    ical_sequence,
    location_text,
    place_of,
    place_url,
    shown_thumbnail,
)
from rollcall.workers.mail_ics import occurrence_ics
from rollcall.workers.mail_render import render_email

VENUE = {
    "name": "De Balie",
    "url": "https://maps.example.org/balie",
    "image": None,
    "latitude": 52.3637,
    "longitude": 4.8836,
    "address": {
        "address_line1": "Kleine-Gartmanplantsoen 10",
        "address_line2": "",
        "city": "Amsterdam",
        "state": "",
        "country": "NL",
        "post_code": "1017 RR",
    },
}
WHERE = "De Balie, Kleine-Gartmanplantsoen 10, 1017 RR Amsterdam, NL"


def context(kind: str, locale: str | None, role: str = "attendee") -> dict[str, Any]:
    event = {
        "id": "e",
        "ref": "r",
        "name": "Intro",
        "description": "",
        "type": "TRAINING",
        "timezone": "Europe/Amsterdam",
        "starts_at": "2031-03-08T09:00:00+00:00",
        "ends_at": "2031-03-08T10:00:00+00:00",
        **place_of(VENUE, None),
    }
    if kind == "time":
        change = {
            "kind": "time",
            "old": {
                "starts_at": "2031-03-01T09:00:00+00:00",
                "ends_at": "2031-03-01T10:00:00+00:00",
            },
            "new": {
                "starts_at": "2031-03-08T09:00:00+00:00",
                "ends_at": "2031-03-08T10:00:00+00:00",
            },
        }
    else:
        change = {
            "kind": "place",
            "old": place_of(VENUE, None),
            "new": place_of(None, "https://meet.example.org/x"),
        }
    return {
        "event": event,
        "attendee": {"ref": "a", "name": "Ada", "email": "a@x.org", "locale": locale},
        "role": role,
        "change": change,
        "calendar_dates": [{"id": "o", "starts_at": "x", "ends_at": "y", "sequence": 1}],
        "attach_calendar": True,
    }


@pytest.mark.parametrize(
    ("locale", "subject", "words"),
    [
        (
            None,
            "Changed: Intro moves to Saturday, March 8, 2031, 10:00 AM "
            "Central European Standard Time",
            ["Was:", "Now:", "Where:"],
        ),
        (
            "nl-BE",
            "Gewijzigd: Intro verplaatst naar zaterdag 8 maart 2031, 10:00 "
            "Midden-Europese standaardtijd",
            ["Was:", "Nu:", "Waar:"],
        ),
        (
            "de",
            "Geändert: Intro wird verlegt auf Samstag, 8. März 2031, 10:00 "
            "Mitteleuropäische Normalzeit",
            ["Bisher:", "Neu:", "Wo:"],
        ),
    ],
)
def test_the_time_change_mail_in_each_language(
    locale: str | None, subject: str, words: list[str]
) -> None:
    mail = render_email(
        get_settings().templates_dir, "event_changed", context("time", locale), locale=locale
    )
    assert mail.subject == subject
    for word in words:
        assert word in mail.text
    assert WHERE in mail.text and WHERE in mail.html


@pytest.mark.parametrize("locale", [None, "nl", "de"])
def test_the_place_change_mail_shows_old_then_new(locale: str | None) -> None:
    mail = render_email(
        get_settings().templates_dir,
        "event_changed",
        context("place", locale, "trainer"),
        locale=locale,
    )
    before, after = mail.text.split("https://meet.example.org/x")[0], mail.text
    assert "De Balie" in before
    assert after.index("De Balie") < after.index("https://meet.example.org/x")
    assert 'href="https://meet.example.org/x"' in mail.html


def test_the_venue_block_speaks_the_attendees_language_in_every_mail() -> None:
    ctx = context("time", "nl")
    ctx |= {"enrollment": {"id": "n", "status": "enrolled"}}
    mail = render_email(get_settings().templates_dir, "enrollment_confirmed", ctx, locale="nl")
    assert f"Waar: {WHERE}" in mail.text
    assert "Kaart: https://maps.example.org/balie" in mail.text


def test_the_mail_ics_keeps_uid_sequence_and_place() -> None:
    ctx = context("time", None)
    ctx["calendar_dates"] = [
        {
            "id": "o1",
            "starts_at": "2031-03-08T09:00:00+00:00",
            "ends_at": "2031-03-08T10:00:00+00:00",
            "sequence": 3,
        }
    ]
    attachment = occurrence_ics(ctx, stamp=datetime(2031, 1, 1, tzinfo=UTC))
    assert attachment is not None
    (vevent,) = Calendar.from_ical(attachment.content).walk("VEVENT")
    assert str(vevent["UID"]) == "o1@rollcall"
    assert vevent["SEQUENCE"] == 3
    assert str(vevent["LOCATION"]) == WHERE
    assert (vevent["GEO"].latitude, vevent["GEO"].longitude) == (52.3637, 4.8836)
    assert str(vevent["URL"]) == "https://maps.example.org/balie"


@pytest.mark.parametrize(
    ("venue", "online", "location", "url", "coordinates"),
    [
        (VENUE, None, WHERE, "https://maps.example.org/balie", (52.3637, 4.8836)),
        (
            None,
            "https://meet.example.org/x",
            "https://meet.example.org/x",
            "https://meet.example.org/x",
            None,
        ),
        (
            VENUE,
            "https://meet.example.org/x",
            WHERE,
            "https://meet.example.org/x",
            (52.3637, 4.8836),
        ),
        ({"name": "Hall", "latitude": None, "longitude": None}, None, "Hall", None, None),
        (None, None, None, None, None),
    ],
)
def test_where_the_calendar_says_it_is(
    venue: dict[str, Any] | None,
    online: str | None,
    location: str | None,
    url: str | None,
    coordinates: tuple[float, float] | None,
) -> None:
    assert location_text(venue, online) == location
    assert place_url(venue, online) == url
    assert geo(venue) == coordinates


def test_the_thumbnail_defaults_to_the_primary_banner_and_sequences_only_grow() -> None:
    banners = [
        {"name": "a", "image": "https://x/a", "primary": False},
        {"name": "b", "image": "https://x/b", "primary": True},
    ]
    assert shown_thumbnail(None, banners) == banners[1]
    assert shown_thumbnail(None, banners[:1]) is None
    assert shown_thumbnail({"name": "t", "image": "https://x/t"}, banners) == {
        "name": "t",
        "image": "https://x/t",
        "primary": False,
    }
    assert [ical_sequence(o, p) for o, p in ((0, 0), (1, 0), (1, 1), (2, 1))] == [0, 1, 2, 3]
