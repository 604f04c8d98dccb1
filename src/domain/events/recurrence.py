"""Recurrence rules: which dated occurrences an event has. Pure; no database.

A rule is stored on ``Event.recurrence`` as the JSON the API accepted::

    {"type": "daily" | "weekly" | "monthly" | "schedule" | "does_not_repeat" | "timeslots",
     "starts_on": "2027-01-04T09:00:00",     # local wall-clock time, no offset
     "duration_minutes": 90,
     "interval": 1,                          # every N days / weeks / months
     "weekdays": ["MO", "WE"],               # weekly (default: starts_on's weekday);
                                             # timeslots (optional day filter)
     "month_day": 31,                        # monthly: 1..31, or -1 for the last day
     "nth_weekday": {"n": 2, "weekday": "TU"},  # monthly: 1..5 or -1 (last)
     "dates": ["2027-01-04T09:00:00", ...],  # schedule: explicit local starts
     "timeslots": [{"start": "09:00", "duration_minutes": 60}, ...],
     "ends": {"type": "never" | "after" | "on", "count": 10, "date": "2027-06-30"},
     "exclusions": ["2027-01-11", ...]}      # local dates without occurrences

Rules are expanded with dateutil's rrule on *naive local* wall-clock times in
the event's zone, then each local start is turned into UTC. So 09:00 stays
09:00 local across DST changes. The DST rule for local times that do not map
to exactly one instant (PEP 495, ``fold=0``):

* a **non-existent** local time (spring forward, e.g. 02:30 on the last Sunday
  of March in Europe/Amsterdam) is shifted forward by the gap: it happens at
  03:30 local (01:30 UTC), the same instant as "02:30 at the old offset";
* an **ambiguous** local time (fall back, e.g. 02:30 on the last Sunday of
  October) is the *first* of the two instants (02:30 CEST = 00:30 UTC).

Other decisions, RFC 5545 style: a monthly rule on day 29/30/31 skips months
that lack that day (use ``month_day: -1`` for "the last day"); ``ends.after``
counts occurrences before exclusions are removed (like COUNT with EXDATE);
``ends.on`` includes that local date; for ``timeslots`` the rule generates days
(``ends.after`` counts days) and each day gets every slot. The end of an
occurrence is its UTC start plus the duration (elapsed time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule, weekday

from rollcall.domain.errors.events import RecurrenceTooLarge

WEEKDAYS: dict[str, weekday] = {
    "MO": MO,
    "TU": TU,
    "WE": WE,
    "TH": TH,
    "FR": FR,
    "SA": SA,
    "SU": SU,
}
WEEKDAY_CODES = tuple(WEEKDAYS)

Span = tuple[datetime, datetime]


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A naive local wall-clock time in ``zone`` as an aware UTC instant (fold=0)."""
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _parse_local(value: str | datetime) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=None)


def _parse_date(value: str | date) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _ends(rule: dict[str, Any]) -> tuple[int | None, datetime | None]:
    ends = rule.get("ends") or {"type": "never"}
    if ends.get("type") == "after":
        return int(ends["count"]), None
    if ends.get("type") == "on":
        return None, datetime.combine(_parse_date(ends["date"]), time(23, 59, 59))
    return None, None


def _rrule(rule: dict[str, Any], dtstart: datetime) -> rrule:
    kind = rule["type"]
    count, until = _ends(rule)
    interval = int(rule.get("interval") or 1)
    common: dict[str, Any] = {"dtstart": dtstart, "interval": interval}
    if count is not None:
        common["count"] = count
    if until is not None:
        common["until"] = until
    days = [WEEKDAYS[code] for code in rule.get("weekdays") or []]
    if kind == "daily":
        return rrule(DAILY, **common)
    if kind == "timeslots":
        return rrule(DAILY, byweekday=days or None, **common)
    if kind == "weekly":
        return rrule(
            WEEKLY, byweekday=days or [WEEKDAYS[WEEKDAY_CODES[dtstart.weekday()]]], **common
        )
    if kind == "monthly":
        nth = rule.get("nth_weekday")
        if nth:
            return rrule(MONTHLY, byweekday=WEEKDAYS[nth["weekday"]](int(nth["n"])), **common)
        return rrule(MONTHLY, bymonthday=int(rule.get("month_day") or dtstart.day), **common)
    raise ValueError(f"not an rrule type: {kind!r}")


def _local_starts(
    rule: dict[str, Any], lo: datetime, hi: datetime
) -> Iterator[tuple[datetime, int]]:
    """(naive local start, duration minutes) with lo <= start <= hi, before exclusions."""
    kind = rule["type"]
    minutes = int(rule.get("duration_minutes") or 60)
    starts_on = _parse_local(rule["starts_on"])
    if kind == "does_not_repeat":
        if lo <= starts_on <= hi:
            yield starts_on, minutes
        return
    if kind == "schedule":
        # starts_on is the first date of the schedule, as for every other type;
        # a date listed again is one occurrence, not two.
        starts = {starts_on, *(_parse_local(value) for value in rule.get("dates") or [])}
        for local in sorted(starts):
            if lo <= local <= hi:
                yield local, minutes
        return
    if kind == "timeslots":
        slots = [
            (time.fromisoformat(slot["start"]), int(slot["duration_minutes"]))
            for slot in rule.get("timeslots") or []
        ]
        day_start = datetime.combine(starts_on.date(), time())
        for day in _rrule(rule, day_start).between(lo - timedelta(days=1), hi, inc=True):
            for at, length in slots:
                local = datetime.combine(day.date(), at)
                if lo <= local <= hi:
                    yield local, length
        return
    for local in _rrule(rule, starts_on).between(lo, hi, inc=True):
        yield local, minutes


def expand(
    rule: dict[str, Any],
    tz: str,
    *,
    start: datetime,
    end: datetime,
    limit: int | None = None,
) -> list[Span]:
    """Occurrences (UTC start, UTC end) of ``rule`` whose start is in [start, end).

    ``start`` and ``end`` are aware instants. Sorted by start, duplicates removed.
    Raises RecurrenceTooLarge if there would be more than ``limit``.
    """
    zone = ZoneInfo(tz)
    # A day of margin each side: the local window is only approximately the
    # UTC one (offsets, DST); the exact filter is on the UTC start below.
    lo = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    hi = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    excluded = {_parse_date(value) for value in rule.get("exclusions") or []}
    spans: dict[datetime, datetime] = {}
    for local, minutes in _local_starts(rule, lo, hi):
        if local.date() in excluded:
            continue
        begins = to_utc(local, zone)
        if start <= begins < end and begins not in spans:
            spans[begins] = begins + timedelta(minutes=minutes)
            if limit is not None and len(spans) > limit:
                raise RecurrenceTooLarge(limit=limit)
    return sorted(spans.items())


def is_finite(rule: dict[str, Any]) -> bool:
    """True if the rule has a last occurrence."""
    if rule["type"] in ("does_not_repeat", "schedule"):
        return True
    return (rule.get("ends") or {}).get("type") in ("after", "on")


def first_start(rule: dict[str, Any], tz: str) -> datetime | None:
    """The UTC start the rule's expansion begins at (a lower bound for expand)."""
    zone = ZoneInfo(tz)
    starts = [_parse_local(rule["starts_on"])]
    if rule["type"] == "schedule":
        starts += [_parse_local(value) for value in rule.get("dates") or []]
    return min(to_utc(local, zone) for local in starts) - timedelta(days=1)


def last_end(rule: dict[str, Any], tz: str) -> datetime | None:
    """The UTC end of the rule's last occurrence; None if it never ends or has none."""
    if not is_finite(rule):
        return None
    lower = first_start(rule, tz)
    assert lower is not None
    _count, until = _ends(rule)
    if rule["type"] == "schedule":
        upper_local = max(_parse_local(v) for v in [rule["starts_on"], *(rule.get("dates") or [])])
    elif rule["type"] == "does_not_repeat":
        upper_local = _parse_local(rule["starts_on"])
    elif until is not None:
        upper_local = until
    else:
        # ends after N: the Nth start of the underlying rrule (before exclusions).
        dtstart = _parse_local(rule["starts_on"])
        if rule["type"] == "timeslots":
            dtstart = datetime.combine(dtstart.date(), time())
        occurrences = list(_rrule(rule, dtstart))
        if not occurrences:
            return None
        upper_local = occurrences[-1]
    upper = to_utc(upper_local + timedelta(days=2), ZoneInfo(tz))
    spans = expand(rule, tz, start=lower, end=upper)
    return max(ends for _starts, ends in spans) if spans else None
