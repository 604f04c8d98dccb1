"""Rendering is pure: a template name, a context and a locale in, a Rendered
value out.

Each mail is three files in a locale folder of templates/email
(``templates/email/<locale>/``): ``<name>.subject.txt``, ``<name>.txt.j2`` and
``<name>.html.j2``. The folder is the one that best matches the attendee's
locale (rollcall.domain.locales: ``nl-BE`` -> ``nl``); ``en`` is the fallback,
for the whole mail and for any file a locale folder lacks. HTML is autoescaped
(the environment comes from rollcall.templating, like every other); the
subject is collapsed to one line so no header can be injected through it.

An organisation overrides any of these files (or ``_layout.html.j2``) by
putting a file of the same name in ``templates/email/org/<organisation id>/<locale>/``
(that language only) or ``templates/email/org/<organisation id>/`` (every
language); files it does not override come from ``templates/email/<locale>/``.

One environment is built per folder list and kept (``environment``), so a
reminder run mailing many attendees compiles each template once per locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from rollcall.config.templating import make_environment
from rollcall.domain.locales import DEFAULT_LOCALE, choose_locale

#: Folders of templates/email that are not locales.
NOT_LOCALES = frozenset({"org"})


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def localtime(
    value: str | datetime | None, tz: str = "UTC", fmt: str = "%A %d %B %Y, %H:%M %Z"
) -> str:
    """Format a UTC instant in a time zone, showing the zone."""
    if value is None:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(ZoneInfo(tz)).strftime(fmt)


def mail_locale(context: dict[str, Any]) -> str | None:
    """The locale a queued mail's context names: its attendee's."""
    attendee = context.get("attendee")
    locale = attendee.get("locale") if isinstance(attendee, dict) else None
    return locale if isinstance(locale, str) else None


@lru_cache(maxsize=64)
def locale_folders(base: str) -> frozenset[str]:
    """The locale folders of a templates/email folder (read once)."""
    root = Path(base)
    if not root.is_dir():
        return frozenset()
    return frozenset(p.name for p in root.iterdir() if p.is_dir() and p.name not in NOT_LOCALES)


def search_path(base: Path, locale: str, override: Path | None) -> tuple[str, ...]:
    """Where a mail's files are looked for, first match wins: the organisation's
    folder for this locale, its own folder, this locale's folder, English."""
    folders = []
    if override is not None:
        folders += [override / locale, override]
    folders += [base / locale, base / DEFAULT_LOCALE]
    unique = dict.fromkeys(str(f) for f in folders if f.is_dir())
    return tuple(unique)


@lru_cache(maxsize=256)
def environment(*search: str) -> Environment:
    """One Jinja2 environment per folder list: its templates are compiled once."""
    env = make_environment(
        FileSystemLoader(list(search)),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["localtime"] = localtime
    return env


def render_email(
    templates_dir: Path,
    name: str,
    context: dict[str, Any],
    *,
    organisation_id: str | None = None,
    locale: str | None = None,
) -> Rendered:
    """Render one mail in the folder that best matches ``locale`` (English when
    none does); the organisation's overrides win where they exist.

    Raises jinja2 errors (TemplateNotFound, UndefinedError) for a template
    that can never render: the caller marks such a mail failed.
    """
    base = Path(templates_dir) / "email"
    override = base / "org" / organisation_id if organisation_id else None
    chosen = choose_locale(locale, locale_folders(str(base)))
    # Organisations without overrides share one environment per locale (and its cache).
    env = environment(*search_path(base, chosen, override))
    subject = env.get_template(f"{name}.subject.txt").render(context)
    return Rendered(
        subject=" ".join(subject.split()),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
    )
