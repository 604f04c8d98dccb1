"""Rendering is pure: a template name and a context in, a Rendered value out.

Each mail is three files in templates/email: ``<name>.subject.txt``,
``<name>.txt.j2`` and ``<name>.html.j2``. HTML is autoescaped (the environment
comes from rollcall.templating, like every other); the subject is collapsed to
one line so no header can be injected through it.

An organisation overrides any of these files (or ``_layout.html.j2``) by
putting a file of the same name in ``templates/email/org/<organisation id>/``;
files it does not override come from ``templates/email``.
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


@lru_cache(maxsize=64)
def environment(templates_dir: str, override_dir: str | None = None) -> Environment:
    """One Jinja2 environment per templates folder (and override folder)."""
    search = [override_dir, templates_dir] if override_dir else [templates_dir]
    env = make_environment(
        FileSystemLoader(search),
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
) -> Rendered:
    """Render one mail; the organisation's overrides win where they exist.

    Raises jinja2 errors (TemplateNotFound, UndefinedError) for a template
    that can never render: the caller marks such a mail failed.
    """
    base = Path(templates_dir) / "email"
    override = base / "org" / organisation_id if organisation_id else None
    # Organisations without overrides share one environment (and its cache).
    env = environment(str(base), str(override) if override and override.is_dir() else None)
    subject = env.get_template(f"{name}.subject.txt").render(context)
    return Rendered(
        subject=" ".join(subject.split()),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
    )
