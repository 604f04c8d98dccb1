"""Which language a mail speaks (rollcall.domain.locales), that every message
ships in every language, and that a reminder run's many mails compile each
template once per language."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import jinja2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rollcall.config.settings import get_settings
from rollcall.domain.locales import DEFAULT_LOCALE, choose_locale, formatting_locale, parse_locale
from rollcall.workers.mail_render import locale_folders, render_email
from tests.support.mail_languages import CONTEXT, LANGUAGES

TEMPLATES = get_settings().templates_dir
EMAIL = TEMPLATES / "email"


@pytest.mark.parametrize(
    ("requested", "folder", "dates_in"),
    [
        ("nl", "nl", "nl"),
        ("nl-BE", "nl", "nl_BE"),  # Belgian Dutch: the Dutch mail, Belgian dates
        ("nl_BE", "nl", "nl_BE"),
        ("de-AT", "de", "de_AT"),
        ("DE", "de", "de"),
        ("en-GB", "en", "en_GB"),
        ("fr", "en", "en"),  # no French mail: English, with English dates
        ("zh-TW", "en", "en"),
        ("xx", "en", "en"),  # not a locale (refused at intake; a stale row): English
        ("", "en", "en"),
        (None, "en", "en"),
    ],
)
def test_the_folder_and_the_dates_follow_the_attendees_locale(
    requested: str | None, folder: str, dates_in: str
) -> None:
    assert choose_locale(requested, {"en", "nl", "de"}) == folder
    assert formatting_locale(requested, folder) == dates_in


@pytest.mark.parametrize("value", ["xx", "tlh", "de AT", "de--AT", "nl-BE-x-priv", "1", "-"])
def test_what_babel_does_not_know_is_no_locale(value: str) -> None:
    with pytest.raises(ValueError, match="not a known locale"):
        parse_locale(value)


@given(st.text(max_size=16))
def test_reading_any_text_as_a_locale_fails_only_with_value_error(value: str) -> None:
    with contextlib.suppress(ValueError):
        parse_locale(value)
    choose_locale(value, {"en", "nl", "de"})  # never raises


def _files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir() if p.is_file() and not _shared_partial(p.name)}


def _shared_partial(name: str) -> bool:
    return name.startswith("_") and not name.startswith("_layout.")


def test_every_message_ships_in_every_language() -> None:
    # A message added in English only would reach Dutch and German attendees
    # in English: every file of en/ (subjects, text, HTML, the layout) must
    # have its counterpart in every other locale folder, and no folder may
    # hold a file en/ lacks (a misspelt name would never be used). A partial
    # other than the layout (``_venue``: it writes its labels per language) is
    # shared from en/, the folder every language falls back to.
    assert set(locale_folders(str(EMAIL))) >= set(LANGUAGES)
    english = _files(EMAIL / DEFAULT_LOCALE)
    assert len(english) >= 28
    for language in sorted(locale_folders(str(EMAIL)) - {DEFAULT_LOCALE}):
        files = _files(EMAIL / language)
        assert sorted(english - files) == [], f"missing in {language}/"
        assert sorted(files - english) == [], f"{language}/ holds files en/ has not"


def _messages() -> list[str]:
    return sorted(p.name.removesuffix(".subject.txt") for p in (EMAIL / "en").glob("*.subject.txt"))


@pytest.mark.parametrize("name", _messages())
@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_message_is_translated_not_copied(name: str, language: str) -> None:
    english = render_email(TEMPLATES, name, CONTEXT, locale="en")
    other = render_email(TEMPLATES, name, CONTEXT, locale=language)
    assert other.subject != english.subject
    assert other.text != english.text
    assert other.html != english.html
    assert f'<html lang="{language}">' in other.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_has_its_own_subject_in_every_language(language: str) -> None:
    subjects = [render_email(TEMPLATES, n, CONTEXT, locale=language).subject for n in _messages()]
    assert len(set(subjects)) == len(subjects), subjects


def test_dates_are_shown_in_the_attendees_zone_else_the_events() -> None:
    event_zone = render_email(TEMPLATES, "enrollment_confirmed", CONTEXT, locale="de-AT")
    attendee = CONTEXT["attendee"] | {"timezone": "America/New_York"}
    own_zone = render_email(
        TEMPLATES, "enrollment_confirmed", CONTEXT | {"attendee": attendee}, locale="de-AT"
    )
    assert "Samstag, 1. März 2031, 10:00 Mitteleuropäische Normalzeit bis 11:00" in event_zone.text
    assert "Samstag, 1. März 2031, 04:00 Nordamerikanische Ostküsten-Normalzeit" in own_zone.text
    stale = CONTEXT["attendee"] | {"timezone": "Mars/Olympus"}
    fallback = render_email(
        TEMPLATES, "enrollment_confirmed", CONTEXT | {"attendee": stale}, locale="de"
    )
    assert "10:00 Mitteleuropäische Normalzeit" in fallback.text


def test_many_mails_in_three_languages_compile_each_template_once_per_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a fresh templates folder (no environment cached for it yet) and a
    # count of Jinja2 template compilations
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    compiled: list[str | None] = []
    original = jinja2.Environment._parse

    def counting(self: jinja2.Environment, source: str, name: str | None, filename: str | None):  # type: ignore[no-untyped-def]
        compiled.append(name)
        return original(self, source, name, filename)

    monkeypatch.setattr(jinja2.Environment, "_parse", counting)

    # When a reminder run's worth of mails is rendered, attendees in three languages
    for number in range(300):
        locale = ("nl-BE", "de-AT", "fr")[number % 3]
        attendee = CONTEXT["attendee"] | {"name": f"Person {number}", "locale": locale}
        render_email(templates, "reminder_before", CONTEXT | {"attendee": attendee}, locale=locale)

    # Then each language compiled its subject, text, HTML, layout and the
    # venue partials they include once
    assert sorted(compiled) == sorted(
        [
            "reminder_before.subject.txt",
            "reminder_before.txt.j2",
            "reminder_before.html.j2",
            "_layout.html.j2",
            "_venue.txt.j2",
            "_venue.html.j2",
        ]
        * 3
    )


def test_an_organisation_overrides_one_language_or_all(tmp_path: Path) -> None:
    # Given acme's own Dutch subject, and its own footer layout for every language
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    acme = templates / "email" / "org" / "acme"
    (acme / "nl").mkdir(parents=True)
    (acme / "nl" / "enrollment_confirmed.subject.txt").write_text(
        "Acme: welkom bij {{ event.name }}"
    )
    (acme / "_layout.html.j2").write_text("<html>{% block body %}{% endblock %}ACME</html>")

    def render(locale: str, organisation: str = "acme") -> tuple[str, str]:
        mail = render_email(
            templates, "enrollment_confirmed", CONTEXT, organisation_id=organisation, locale=locale
        )
        return mail.subject, mail.html

    # Then a Dutch attendee gets acme's Dutch subject, a German one the shipped German
    assert render("nl-BE")[0] == "Acme: welkom bij Intro"
    assert render("de")[0] == "Sie sind angemeldet: Intro"
    # And acme's layout is every language's; another organisation keeps the shipped one
    assert render("nl")[1].endswith("ACME</html>") and render("de")[1].endswith("ACME</html>")
    assert '<html lang="de">' in render("de", organisation="globex")[1]
