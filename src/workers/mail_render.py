"""Rendering is pure: a template name and a context in, a Rendered value out.

Each mail is three files in templates/email: ``<name>.subject.txt``,
``<name>.txt.j2`` and ``<name>.html.j2``. HTML is autoescaped; the subject is
collapsed to one line so no header can be injected through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape


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


@lru_cache(maxsize=8)
def environment(templates_dir: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["localtime"] = localtime
    return env


def render_email(templates_dir: Path, name: str, context: dict[str, Any]) -> Rendered:
    env = environment(str(Path(templates_dir) / "email"))
    subject = env.get_template(f"{name}.subject.txt").render(context)
    return Rendered(
        subject=" ".join(subject.split()),
        text=env.get_template(f"{name}.txt.j2").render(context),
        html=env.get_template(f"{name}.html.j2").render(context),
    )
