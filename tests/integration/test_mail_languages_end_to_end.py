"""Mail in the attendee's language on real parts: HTTP -> PostgreSQL -> Redis
-> a Dramatiq worker -> the SMTP sink."""

from __future__ import annotations

from sqlalchemy import select

from rollcall.models import Attendee, EmailMessage
from tests.support.factories import job, published_event
from tests.support.mail_languages import enroll_speaking, html_of, mail_to, text_of
from tests.support.stack import Stack


def test_each_attendee_is_confirmed_in_their_language(real_stack: Stack) -> None:
    # Given a published event on PostgreSQL, Tuesday 2 March 2027 at 10:00 in Amsterdam
    key = real_stack.key()
    published_event(
        real_stack,
        key,
        ref="intro",
        max_subscriptions=10,
        starts_at="2027-03-02T09:00:00Z",
        ends_at="2027-03-02T12:00:00Z",
    )

    # When a Dutch, an Austrian and a French attendee (no French mail) enroll over HTTP
    jobs = [
        enroll_speaking(real_stack, key, "intro", "ada", "nl"),
        enroll_speaking(real_stack, key, "intro", "bob", "de-AT", timezone="Europe/Vienna"),
        enroll_speaking(real_stack, key, "intro", "cyd", "fr-CA"),
    ]
    real_stack.drain()
    real_stack.sink.wait_for(3)

    # Then every job succeeded and every mail was sent, each locale stored as sent
    assert [job(real_stack, key, j["id"])["status"] for j in jobs] == ["succeeded"] * 3
    with real_stack.db() as session:
        assert session.scalars(select(EmailMessage.state)).all() == ["sent"] * 3
        stored = {a.ref: a.locale for a in session.scalars(select(Attendee))}
    assert stored == {"ada": "nl", "bob": "de-AT", "cyd": "fr-CA"}

    # And ada's confirmation is Dutch, with Babel's Dutch date
    dutch = mail_to(real_stack, "ada", "U bent ingeschreven: Intro to Rollcall")
    assert "U bent ingeschreven voor \u2018Intro to Rollcall\u2019." in text_of(dutch)
    assert "dinsdag 2 maart 2027, 10:00 Midden-Europese standaardtijd tot 13:00" in text_of(dutch)
    assert '<html lang="nl">' in html_of(dutch)

    # And bob's is German, in Vienna's zone
    german = mail_to(real_stack, "bob", "Sie sind angemeldet: Intro to Rollcall")
    assert "Guten Tag Bob," in text_of(german)
    assert "Dienstag, 2. März 2027, 10:00 Mitteleuropäische Normalzeit bis 13:00" in text_of(german)
    assert "Gesendet von Rollcall im Auftrag des Veranstalters." in html_of(german)

    # And cyd's is English (the fallback), dates in English too
    english = mail_to(real_stack, "cyd", "You are enrolled: Intro to Rollcall")
    assert "Hello Cyd," in text_of(english)
    assert "Tuesday, March 2, 2027, 10:00\u202fAM Central European Standard Time" in text_of(
        english
    )


def test_an_invalid_locale_is_refused_before_any_job(real_stack: Stack) -> None:
    key = real_stack.key()
    published_event(real_stack, key, ref="intro")
    body = {"attendee": {"ref": "ada", "email": "ada@example.org", "locale": "xx-YY"}}
    response = real_stack.client.post(
        "/v1/events/intro/enrollments", json=body, headers=real_stack.auth(key)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "INVALID_LOCALE"
    with real_stack.db() as session:
        assert session.scalars(select(Attendee)).all() == []
