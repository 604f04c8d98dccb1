"""One place builds Jinja2 environments, and it escapes every template but
plain text. A scan of the source keeps anyone from building another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from jinja2 import DictLoader

from rollcall.config.settings import SRC_ROOT, get_settings
from rollcall.config.templating import autoescape_for, make_environment
from rollcall.workers.mail_render import render_email

FACTORY = SRC_ROOT / "config" / "templating.py"
JINJA_BUILDERS = {"Environment", "SandboxedEnvironment", "NativeEnvironment", "Template"}


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("events.html.j2", True),  # Starlette's and select_autoescape's defaults miss this
        ("_layout.html.j2", True),
        ("page.html", True),
        ("report.j2", True),
        ("feed.xml", True),
        ("anything", True),
        (None, True),  # built from a string
        ("enrollment_confirmed.txt.j2", False),
        ("enrollment_confirmed.subject.txt", False),
        ("NOTES.TXT", False),
    ],
)
def test_everything_but_plain_text_is_escaped(name: str | None, escaped: bool) -> None:
    assert autoescape_for(name) is escaped
    env = make_environment(DictLoader({name or "x": "{{ v }}"}))
    rendered = (
        env.get_template(name).render(v="<b>")
        if name
        else env.from_string("{{ v }}").render(v="<b>")
    )
    assert rendered == ("&lt;b&gt;" if escaped else "<b>")


def test_the_policy_cannot_be_overridden() -> None:
    with pytest.raises(TypeError):
        make_environment(DictLoader({}), autoescape=False)


def _calls(path: Path) -> list[tuple[str, ast.Call]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            found.append((name, node))
    return found


def test_no_other_code_builds_a_jinja_environment() -> None:
    offenders = []
    for path in sorted(SRC_ROOT.rglob("*.py")):
        for name, call in _calls(path):
            where = f"{path.relative_to(SRC_ROOT)}:{call.lineno}"
            if name in JINJA_BUILDERS and path != FACTORY:
                offenders.append(f"{where} {name}(...)")
            if name == "Jinja2Templates" and "env" not in {k.arg for k in call.keywords}:
                offenders.append(f"{where} Jinja2Templates without env=make_environment(...)")
    assert offenders == []


def test_mail_html_is_escaped_and_its_text_and_subject_are_not() -> None:
    context = {
        "event": {
            "id": "e",
            "ref": "r",
            "name": "Tom & Jerry <b>live</b>",
            "description": "",
            "type": "TRAINING",
            "timezone": "Europe/Amsterdam",
            "starts_at": "2031-03-01T09:00:00+00:00",
            "ends_at": "2031-03-01T10:00:00+00:00",
        },
        "attendee": {"ref": "a", "name": "O'Neil <img src=x onerror=alert(1)>", "email": "a@x.org"},
        "enrollment": {"id": "n", "status": "enrolled"},
    }
    mail = render_email(get_settings().templates_dir, "enrollment_confirmed", context)
    assert "<img src=x" not in mail.html and "&lt;img src=x onerror=alert(1)&gt;" in mail.html
    assert "Tom &amp; Jerry &lt;b&gt;live&lt;/b&gt;" in mail.html
    # plain text stays as typed: an entity would be shown literally there
    assert "O'Neil <img src=x onerror=alert(1)>" in mail.text
    assert "&lt;" not in mail.text
    assert mail.subject == "You are enrolled: Tom & Jerry <b>live</b>"


MAIL_CONTEXT = {
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
    "attendee": {"ref": "a", "name": "Ada", "email": "a@x.org"},
    "enrollment": {"id": "n", "status": "enrolled", "waitlist_position": 1},
    "reason": "",
    "was": {"status": "enrolled", "starts_at": None, "ends_at": None, "session": "Morning"},
    "other_dates": 0,
    "attach_calendar": False,
    "role": "attendee",
    "change": {
        "kind": "time",
        "old": {"starts_at": "2031-03-01T09:00:00+00:00", "ends_at": "2031-03-01T10:00:00+00:00"},
        "new": {"starts_at": "2031-03-08T09:00:00+00:00", "ends_at": "2031-03-08T10:00:00+00:00"},
    },
    "calendar_dates": [],
}


def test_every_mail_has_its_own_subject() -> None:
    # Issue 14: the event's cancellation and an attendee's own cancellation were
    # both "Cancelled: <event>". Every template, rendered for the same event,
    # must say which mail it is in its subject.
    templates = get_settings().templates_dir
    base = templates / "email" / "en"
    names = sorted(p.name.removesuffix(".subject.txt") for p in base.glob("*.subject.txt"))
    assert len(names) >= 9
    subjects = {name: render_email(templates, name, MAIL_CONTEXT).subject for name in names}
    by_subject: dict[str, list[str]] = {}
    for name, subject in subjects.items():
        by_subject.setdefault(subject, []).append(name)
    assert {s: n for s, n in by_subject.items() if len(n) > 1} == {}


@pytest.mark.parametrize(("other_dates", "said"), [(0, False), (2, True)])
def test_the_date_cancelled_mail_speaks_of_other_dates_only_to_who_has_some(
    other_dates: int, said: bool
) -> None:
    context = MAIL_CONTEXT | {"other_dates": other_dates}
    mail = render_email(get_settings().templates_dir, "occurrence_cancelled", context)
    assert ("other dates" in mail.text) is said
    assert ("other dates" in mail.html) is said
