"""Which language a mail speaks: the one rule, shared by intake (validation)
and the mail worker (choosing a template folder). Pure: strings in, strings
out; Babel (CLDR) decides what a locale is.

A locale is a BCP 47 tag such as ``nl``, ``nl-BE`` or ``de-AT`` (``nl_BE`` is
read too) that Babel knows. A mail is written from the template folder that
best matches it (``nl-BE`` -> ``nl``), English when none does.
"""

from __future__ import annotations

from collections.abc import Iterable

from babel import Locale, UnknownLocaleError, negotiate_locale
from babel.core import get_locale_identifier

#: The folder every mail falls back to; it holds every template.
DEFAULT_LOCALE = "en"


def parse_locale(value: str) -> Locale:
    """The Babel locale of a tag (``nl-BE``, ``nl_BE``, ``de``).

    Raises ValueError for a tag that is malformed or that CLDR does not know
    (``xx``, ``tlh``, ``de AT``).
    """
    for sep in ("-", "_"):
        try:
            return Locale.parse(value, sep=sep)
        except (ValueError, TypeError, UnknownLocaleError):
            continue
    raise ValueError("not a known locale (a BCP 47 tag such as nl, nl-BE or de-AT)")


def canonical_locale(value: str) -> str:
    """A locale tag in its BCP 47 spelling (``nl_be`` -> ``nl-BE``)."""
    parsed = parse_locale(value)
    parts = (parsed.language, parsed.territory, parsed.script, parsed.variant)
    return get_locale_identifier(parts, sep="-")


def choose_locale(requested: str | None, available: Iterable[str]) -> str:
    """The template folder for ``requested``: the best of ``available``
    (``nl-BE`` -> ``nl``), else DEFAULT_LOCALE. Never raises: a stored value
    that is not a locale at all gets English."""
    folders = sorted(available)
    if not requested:
        return DEFAULT_LOCALE
    try:
        parsed = parse_locale(requested)
    except ValueError:
        return DEFAULT_LOCALE
    chosen = negotiate_locale([str(parsed)], folders, sep="_")
    return chosen or DEFAULT_LOCALE


def formatting_locale(requested: str | None, chosen: str) -> str:
    """The Babel locale a mail's dates are written in: the attendee's own when
    it speaks the chosen folder's language (``de-AT`` in ``de``: Austrian
    months), else the folder's (``fr`` in ``en``: English dates in an English
    mail). An identifier such as ``de_AT``."""
    folder = parse_locale(chosen)
    if requested:
        try:
            parsed = parse_locale(requested)
        except ValueError:
            return str(folder)
        if parsed.language == folder.language:
            return str(parsed)
    return str(folder)
