"""Bad input gets a clear 4xx, never a 5xx: random event bodies against the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.event_helpers import call, refused
from tests.support.stack import Stack

local_times = st.datetimes(
    min_value=datetime(1960, 1, 1),
    max_value=datetime(2300, 1, 1),
).map(lambda moment: moment.replace(microsecond=0).isoformat())

recurrences = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["daily", "weekly", "monthly", "schedule", "does_not_repeat", "timeslots", "yearly"]
        ),
        "starts_on": local_times | st.just("2027-02-30T09:00:00") | st.just("soon"),
    },
    optional={
        "duration_minutes": st.integers(-5, 20_000),
        "interval": st.integers(-1, 500),
        "weekdays": st.lists(st.sampled_from(["MO", "TU", "SU", "XX"]), max_size=3),
        "month_day": st.integers(-3, 33),
        "nth_weekday": st.fixed_dictionaries(
            {"n": st.integers(-2, 6), "weekday": st.sampled_from(["MO", "FR", "ZZ"])}
        ),
        "dates": st.lists(local_times, max_size=3),
        "timeslots": st.lists(
            st.fixed_dictionaries(
                {
                    "start": st.sampled_from(["09:00", "23:59", "25:00", "02:30"]),
                    "duration_minutes": st.integers(0, 2000),
                }
            ),
            max_size=48,
        ),
        "ends": st.one_of(
            st.just({"type": "never"}),
            st.fixed_dictionaries({"type": st.just("after"), "count": st.integers(-1, 20_000)}),
            st.fixed_dictionaries(
                {"type": st.just("on"), "date": st.dates().map(lambda day: day.isoformat())}
            ),
        ),
        "exclusions": st.lists(st.dates().map(lambda day: day.isoformat()), max_size=3),
    },
)

bodies = st.fixed_dictionaries(
    {"name": st.text(max_size=80), "type": st.sampled_from(["TRAINING", "WEBINAR", "X"])},
    optional={
        "timezone": st.sampled_from(["Europe/Amsterdam", "Australia/Sydney", "Nowhere/City"]),
        "recurrence": recurrences,
        "max_subscriptions": st.integers(-1, 10**12),
        "price": st.sampled_from(["1.005", "-1", "10.50", "1e40", "NaN"]),
    },
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_random_event_bodies_never_cause_a_5xx(
    component_stack: Stack, body: dict[str, Any]
) -> None:
    key = component_stack.extra.setdefault("key", component_stack.key())
    response = call(component_stack, key, "POST", "/v1/events", json=body)
    assert response.status_code in (201, 422), response.text
    if response.status_code == 201:
        event_id = response.json()["id"]
        listed = call(component_stack, key, "GET", f"/v1/events/{event_id}/occurrences")
        assert listed.status_code == 200, listed.text


def test_a_rule_that_would_make_too_many_occurrences_is_refused(component_stack: Stack) -> None:
    key = component_stack.key()
    slots = [
        {"start": f"{hour:02d}:{minute:02d}", "duration_minutes": 15}
        for hour in range(24)
        for minute in (0, 30)
    ]
    body = {
        "name": "Since the nineties",
        "type": "MEETING",
        "recurrence": {"type": "timeslots", "starts_on": "1990-01-01T00:00:00", "timeslots": slots},
    }
    refused(
        call(component_stack, key, "POST", "/v1/events", json=body), 422, "RECURRENCE_TOO_LARGE"
    )
