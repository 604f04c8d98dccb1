"""The attendee-resource and move tests of tests/component/test_attendees_http.py
and test_move_enrollment.py, collected again on the real parts: PostgreSQL,
Redis, uvicorn over HTTP, a Dramatiq worker and the SMTP sink (the JSON text
search of erase and the row locks of a move on the other database)."""

from __future__ import annotations

import pytest

from tests.component.test_attendees_http import (
    test_bad_changes_and_cursors_are_refused,
    test_create_read_change_and_list_attendees,
    test_erase_anonymises_frees_the_seat_and_is_idempotent,
    test_the_export_holds_everything_but_secrets,
)
from tests.component.test_move_enrollment import (
    test_a_full_target_refuses_a_seat_and_nothing_changes,
    test_a_seat_moves_between_sessions_sharing_a_full_event,
    test_a_seat_moves_with_its_payment_and_promotes_the_next_in_line,
    test_a_waiting_list_place_moves_to_a_free_seat_or_the_end_of_the_line,
    test_bad_moves_are_refused_with_a_code,
)
from tests.support.stack import Stack


@pytest.fixture
def component_stack(real_stack: Stack) -> Stack:
    """The component tests' stack, here the real one."""
    return real_stack


__all__ = [
    "test_a_full_target_refuses_a_seat_and_nothing_changes",
    "test_a_seat_moves_between_sessions_sharing_a_full_event",
    "test_a_seat_moves_with_its_payment_and_promotes_the_next_in_line",
    "test_a_waiting_list_place_moves_to_a_free_seat_or_the_end_of_the_line",
    "test_bad_changes_and_cursors_are_refused",
    "test_bad_moves_are_refused_with_a_code",
    "test_create_read_change_and_list_attendees",
    "test_erase_anonymises_frees_the_seat_and_is_idempotent",
    "test_the_export_holds_everything_but_secrets",
]
