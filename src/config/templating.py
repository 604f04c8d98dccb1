"""The one place Jinja2 environments are built, so none forgets to escape.

Escaping is decided by the template's name, and is on unless the name says the
output is plain text (``.txt``, ``.txt.j2``: mail subjects and text bodies,
where an entity such as ``&lt;`` would be shown as typed). Every other
template, whatever its name (``.html.j2`` included, which Jinja2's
``select_autoescape`` and Starlette's default would leave unescaped), and
every template built from a string, is HTML-escaped.
"""

from __future__ import annotations

from typing import Any

from jinja2 import BaseLoader, Environment

PLAIN_TEXT_SUFFIXES = (".txt", ".txt.j2")


def autoescape_for(name: str | None) -> bool:
    """Whether a template of this name is HTML-escaped: always, except plain text."""
    return not (name or "").lower().endswith(PLAIN_TEXT_SUFFIXES)


def make_environment(loader: BaseLoader, **options: Any) -> Environment:
    """A Jinja2 environment over ``loader`` that escapes by ``autoescape_for``.

    ``options`` are Environment's other settings (undefined, trim_blocks, ...);
    the escaping policy itself cannot be passed in.
    """
    if "autoescape" in options:
        raise TypeError("autoescape is decided by rollcall.templating, not by the caller")
    return Environment(loader=loader, autoescape=autoescape_for, **options)
