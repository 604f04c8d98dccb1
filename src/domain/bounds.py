"""What input may be at all: the one place for the bounds every edge applies. Pure.

The API validates each string, integer and moment against these rules before
anything reaches the database, a job, a mail or the scheduler (intake.fields
wraps them as pydantic types; the calendar's hand-read parameters and the
cursors call them directly). A value outside them could never be stored or
processed: PostgreSQL refuses NUL in text and integers from 2**31, psycopg
refuses lone surrogates, and dates near datetime's limits overflow in
offset and reminder arithmetic.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

#: PostgreSQL ``integer``: every count and minute column.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

#: Years a moment may fall in, as recurrences always had it: nobody schedules
#: outside them, and arithmetic near datetime's limits (year 1, 9999) overflows.
#: An instant (with offset) is judged by its UTC year, a local wall-clock time
#: or a date by its own year.
MIN_YEAR, MAX_YEAR = 1970, 2200
EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
#: Exclusive: the first instant after the window.
LATEST = datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC)

#: Control characters (C0, DEL, C1) and lone surrogates. Text may keep tab and
#: line breaks; a single line (names, refs, keys: they end up in mail headers,
#: file names and log lines) keeps none, nor the Unicode line separators.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def text_problem(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` is not acceptable text, or None. Checks characters only;
    lengths are the caller's (each field has its own)."""
    found = (_NOT_TEXT if multiline else _NOT_LINE).search(value)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return "must be valid Unicode text (a lone surrogate is not)"
    if char in "\r\n\u2028\u2029":
        return "must be a single line"
    return f"must not contain control characters (found U+{ord(char):04X})"


def moment_problem(value: datetime | date) -> str | None:
    """Why ``value`` is outside the years MIN_YEAR..MAX_YEAR, or None.

    An aware datetime is judged by its UTC instant; a naive datetime (a local
    wall-clock time) or a date by its own year. Never raises: the year as
    written is checked first, so converting year 1 or 9999 cannot overflow.
    """
    message = f"must be between {MIN_YEAR} and {MAX_YEAR} (inclusive years)"
    if not MIN_YEAR - 1 <= value.year <= MAX_YEAR + 1:
        return message
    if isinstance(value, datetime) and value.utcoffset() is not None:
        if not EARLIEST <= value < LATEST:
            return message
    elif not MIN_YEAR <= value.year <= MAX_YEAR:
        return message
    return None


def near_window(value: datetime) -> bool:
    """Whether ``value`` could be a stored moment: within the window widened by a
    day, because a local time in the window (a recurrence's) lies up to a day
    outside it in UTC. Cursors use this to tell ours from edited ones."""
    if not MIN_YEAR - 1 <= value.year <= MAX_YEAR + 1:
        return False
    if value.utcoffset() is None:
        return True
    return EARLIEST - timedelta(days=1) <= value < LATEST + timedelta(days=1)


#: The words a boolean parameter takes, as pydantic reads ``bool`` (so a
#: hand-read flag and a FastAPI one accept the same values and refuse the rest).
TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})
FALSE_WORDS = frozenset({"0", "off", "f", "false", "n", "no"})


def flag_value(value: str) -> bool | None:
    """The boolean a query or form value names, or None when it names none."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def echo(value: object, limit: int = 100) -> str:
    """``value`` made safe to store and show back in an error: bounded, and with
    any character text_problem refuses written as an escape (as repr does)."""
    try:
        text = (value if isinstance(value, str) else repr(value))[:limit]
    except ValueError:  # an int beyond sys.get_int_max_str_digits()
        text = "(a number too large to show)"
    if _NOT_LINE.search(text) is None:
        return text
    return _NOT_LINE.sub(lambda found: repr(found.group())[1:-1], text)
