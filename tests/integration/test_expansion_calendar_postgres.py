"""The expansion cache tests of tests/component/test_expansion_calendar.py, on PostgreSQL."""

from __future__ import annotations

from tests.component.test_expansion_calendar import (
    test_a_date_given_twice_or_already_there_is_written_once,
    test_a_repeated_expansion_writes_no_row_twice,
    test_expansion_writes_the_cache_rows_of_the_new_occurrences,
)
from tests.support.enroll_groups import database

db = database("postgres")

__all__ = [
    "test_a_date_given_twice_or_already_there_is_written_once",
    "test_a_repeated_expansion_writes_no_row_twice",
    "test_expansion_writes_the_cache_rows_of_the_new_occurrences",
]
