"""The enroll-group and line-order tests of tests/component/test_enroll_groups.py
and test_enroll_order.py, collected again with ``db`` on PostgreSQL: the same
test bodies, the other database (row locks, its clock's microseconds)."""

from __future__ import annotations

from tests.component.test_enroll_groups import (
    test_a_job_that_crashes_the_group_fails_alone,
    test_a_late_request_is_ranked_by_arrival_not_by_application,
    test_a_session_enrollment_in_a_group_puts_the_sessions_dates_in_the_calendar,
    test_one_message_applies_the_events_queued_jobs_in_arrival_order,
    test_refusals_stay_with_their_jobs,
)
from tests.component.test_enroll_order import (
    test_a_crash_in_the_group_keeps_everyone_elses_turn,
    test_a_young_jobs_message_applies_the_older_groups_first,
    test_an_attendees_second_job_is_not_overtaken,
    test_requests_stamped_in_the_same_microsecond_keep_one_order,
    test_scopes_sharing_seats_are_served_in_order,
)
from tests.support.enroll_groups import database

db = database("postgres")

__all__ = [
    "test_a_crash_in_the_group_keeps_everyone_elses_turn",
    "test_a_job_that_crashes_the_group_fails_alone",
    "test_a_late_request_is_ranked_by_arrival_not_by_application",
    "test_a_session_enrollment_in_a_group_puts_the_sessions_dates_in_the_calendar",
    "test_a_young_jobs_message_applies_the_older_groups_first",
    "test_an_attendees_second_job_is_not_overtaken",
    "test_one_message_applies_the_events_queued_jobs_in_arrival_order",
    "test_refusals_stay_with_their_jobs",
    "test_requests_stamped_in_the_same_microsecond_keep_one_order",
    "test_scopes_sharing_seats_are_served_in_order",
]
