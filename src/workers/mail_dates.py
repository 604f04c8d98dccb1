"""Dates and times in a mail, written with Babel for the mail's locale and
time zone (the attendee's zone, else the event's).

Three template filters, each taking an instant (an ISO 8601 string as the
mail context holds, or a datetime):

- ``{{ event.starts_at | datetime }}``: the full date and the short time,
  joined the locale's way, with the zone's name:
  ``zaterdag 1 maart 2031, 10:00 Midden-Europese standaardtijd``;
- ``{{ event.starts_at | date }}``: the full date (``| date("long")`` for
  another Babel width or a CLDR pattern): ``Samstag, 1. März 2031``;
- ``{{ event.ends_at | time }}``: the short time: ``11:00`` (``11:00 AM`` in ``en``).

The filters read the locale and zone from the ``mail`` entry render_email
adds to the context.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from jinja2 import pass_context
from jinja2.runtime import Context

#: The zone of a mail whose attendee and event name none that exists.
FALLBACK_ZONE = "UTC"


def instant(value: str | datetime) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def zone_named(*names: object) -> ZoneInfo:
    """The first of ``names`` that is an IANA zone (a stored value may be
    stale), else UTC."""
    for name in names:
        if isinstance(name, str) and name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return ZoneInfo(FALLBACK_ZONE)


@lru_cache(maxsize=64)
def datetime_pattern(locale: str) -> str:
    """The locale's full date and short time in its own order (CLDR's
    dateTimeFormat), followed by the zone's long name."""
    babel_locale = Locale.parse(locale)
    date = babel_locale.date_formats["full"].pattern
    time = babel_locale.time_formats["short"].pattern
    joined = str(get_datetime_format("full", locale=babel_locale))
    return joined.replace("{1}", date).replace("{0}", f"{time} zzzz")


def when(value: str | datetime, *, locale: str, zone: ZoneInfo) -> str:
    """The date, time and zone of an instant, in ``locale`` and ``zone``."""
    return format_datetime(instant(value), datetime_pattern(locale), tzinfo=zone, locale=locale)


def day(value: str | datetime, *, locale: str, zone: ZoneInfo, width: str = "full") -> str:
    """The date of an instant in ``zone`` (the day it is there)."""
    return format_date(instant(value).astimezone(zone), width, locale=locale)


def clock(value: str | datetime, *, locale: str, zone: ZoneInfo, width: str = "short") -> str:
    """The time of an instant in ``zone``."""
    return format_time(instant(value), width, tzinfo=zone, locale=locale)


def _setting(context: Context) -> tuple[str, ZoneInfo]:
    mail = context.get("mail")
    if not isinstance(mail, dict):
        return "en", ZoneInfo(FALLBACK_ZONE)
    return str(mail.get("locale") or "en"), zone_named(mail.get("timezone"))


@pass_context
def datetime_filter(context: Context, value: str | datetime | None) -> str:
    if value is None:
        return ""
    locale, zone = _setting(context)
    return when(value, locale=locale, zone=zone)


@pass_context
def date_filter(context: Context, value: str | datetime | None, width: str = "full") -> str:
    if value is None:
        return ""
    locale, zone = _setting(context)
    return day(value, locale=locale, zone=zone, width=width)


@pass_context
def time_filter(context: Context, value: str | datetime | None, width: str = "short") -> str:
    if value is None:
        return ""
    locale, zone = _setting(context)
    return clock(value, locale=locale, zone=zone, width=width)


FILTERS: dict[str, Any] = {"datetime": datetime_filter, "date": date_filter, "time": time_filter}
