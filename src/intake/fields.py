"""The bounded types every request schema and parameter is made of.

One string type (``Text``: bounded length, valid Unicode, no NUL or other
control characters, one line unless ``multiline``), one integer type
(``Int32``: fits PostgreSQL ``integer``) and one moment type family
(``Instant``, ``LocalMoment``, ``Day``: years 1970..2200), all over the rules
of domain.bounds. A request field typed plainly ``str``, ``int`` or
``datetime`` is a bug (tests/unit/test_request_bounds.py walks every model).

Refusals are pydantic errors, so they reach the client as VALIDATION_ERROR
(422) with ``details.errors[].type`` ``text_invalid`` or
``moment_out_of_range`` besides pydantic's own (``string_too_long``,
``less_than_equal``, ...). A locale Babel does not know is ``locale_invalid``,
which answers with its own code, INVALID_LOCALE (domain.errors.CODE_BY_PROBLEM_TYPE).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import annotated_types
from pydantic import AfterValidator, AwareDatetime, Field, GetJsonSchemaHandler, NaiveDatetime
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from rollcall.domain.bounds import (
    INT32_MAX,
    INT32_MIN,
    MAX_YEAR,
    MIN_YEAR,
    moment_problem,
    text_problem,
)
from rollcall.domain.errors import InvalidLocale
from rollcall.domain.locales import canonical_locale, parse_locale


def _text_checker(multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        problem = text_problem(value, multiline=multiline)
        if problem is not None:
            raise PydanticCustomError("text_invalid", problem)
        return value

    return AfterValidator(check)


_LINE = _text_checker(multiline=False)
_TEXT = _text_checker(multiline=True)


@dataclass(frozen=True)
class Text(annotated_types.GroupedMetadata):
    """``Annotated[str, Text(75, min_length=1)]``: at most ``max_length``
    characters of valid text; a single line unless ``multiline``."""

    max_length: int
    min_length: int = 0
    multiline: bool = False

    def __iter__(self) -> Iterator[object]:
        if self.min_length:
            yield annotated_types.MinLen(self.min_length)
        yield annotated_types.MaxLen(self.max_length)
        yield _TEXT if self.multiline else _LINE


@dataclass(frozen=True)
class Int32(annotated_types.GroupedMetadata):
    """``Annotated[int, Int32(ge=0)]``: within ``ge``..``le``, which are clamped
    to PostgreSQL ``integer``; the JSON schema states both ends."""

    ge: int = INT32_MIN
    le: int = INT32_MAX

    def __iter__(self) -> Iterator[object]:
        yield annotated_types.Ge(max(self.ge, INT32_MIN))
        yield annotated_types.Le(min(self.le, INT32_MAX))


@dataclass(frozen=True)
class _Window:
    """Refuses moments outside MIN_YEAR..MAX_YEAR; states the window in the
    JSON schema (``formatMinimum``/``formatMaximum``, as ajv-formats names them)."""

    minimum: str
    maximum: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(formatMinimum=self.minimum, formatMaximum=self.maximum)
        return schema


def _check_moment(value: Any) -> Any:
    problem = moment_problem(value)
    if problem is not None:
        raise PydanticCustomError("moment_out_of_range", problem)
    return value


_IN_WINDOW = AfterValidator(_check_moment)
_LAST = f"{MAX_YEAR}-12-31T23:59:59.999999"

#: An instant with an offset, within 1970-01-01T00:00Z .. 2200-12-31T23:59:59.999999Z.
Instant = Annotated[AwareDatetime, _IN_WINDOW, _Window(f"{MIN_YEAR}-01-01T00:00:00Z", f"{_LAST}Z")]
#: A local wall-clock time (no offset; the event's time zone applies), years 1970..2200.
LocalMoment = Annotated[NaiveDatetime, _IN_WINDOW, _Window(f"{MIN_YEAR}-01-01T00:00:00", _LAST)]
#: A calendar date, years 1970..2200.
Day = Annotated[date, _IN_WINDOW, _Window(f"{MIN_YEAR}-01-01", f"{MAX_YEAR}-12-31")]


def check_timezone(value: str) -> str:
    """An IANA time zone name; Text(64) has bounded it already."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name the file system refuses (too long, a directory).
        raise ValueError("unknown IANA time zone") from None
    return value


_LOCALE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def check_locale(value: str) -> str:
    """A locale tag (letters and digits in parts) Babel knows; kept as sent
    (Babel's spelling of it can be longer: ``zh-TW`` is ``zh_Hant_TW``). The
    tag's shape is checked first: Babel alone is lenient (it reads
    ``en_GB; x`` as ``en``)."""
    if _LOCALE_TAG.fullmatch(value) is None:
        message = "not a locale tag (letters and digits in parts: nl, nl-BE, de-AT)"
        raise PydanticCustomError(InvalidLocale.problem_type, message)
    try:
        parse_locale(value)
    except ValueError as exc:
        raise PydanticCustomError(InvalidLocale.problem_type, str(exc)) from None
    return value


# The shapes used across the API -------------------------------------------------

#: An upstream system's id (event or attendee ref), an id-or-ref path parameter.
Ref = Annotated[str, Text(200, min_length=1)]
#: An event's or a session's name (seed 001: at most 75).
Title = Annotated[str, Text(75, min_length=1)]
PersonName = Annotated[str, Text(200)]
TimeZoneName = Annotated[str, Text(64, min_length=1), AfterValidator(check_timezone)]
#: A BCP 47 locale tag Babel knows (``nl``, ``nl-BE``, ``de-AT``); it picks the
#: language of the attendee's mails (domain.locales).
Locale = Annotated[str, Text(16, min_length=1), AfterValidator(check_locale)]
#: The same, as the attendee resource stores it: in its BCP 47 spelling
#: (``de_AT`` is stored ``de-AT``).
LocaleTag = Annotated[Locale, AfterValidator(canonical_locale)]
Description = Annotated[str, Text(2500, multiline=True)]
Reason = Annotated[str, Text(500, multiline=True)]
#: ``Idempotency-Key``: what the jobs table stores (String(200)).
IdempotencyKeyText = Annotated[str, Text(200, min_length=1)]
#: An opaque cursor handed out by this API.
CursorText = Annotated[str, Text(500)]

Count = Annotated[int, Int32(ge=0)]

#: Most ids one content access list (``access_trainings``, ...) may hold.
MAX_CONTENT_IDS = 200
#: Ids of upstream contents an enrollment unlocks: UUIDs, at most MAX_CONTENT_IDS.
ContentIds = Annotated[list[uuid.UUID], Field(max_length=MAX_CONTENT_IDS)]
#: A passing score, as a percentage: 0..100, finite.
ScoreThreshold = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
