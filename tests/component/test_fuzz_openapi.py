"""Bad input gets a clear error: fuzz each operation of the OpenAPI schema (one
test per operation, so one failure hides no other) and require no 5xx and the
one error body shape for every 4xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from rollcall.intake.app import create_app
from tests.support.factories import published_event
from tests.support.hostile_stack import settings_for_schema
from tests.support.stack import Stack

EXAMPLES_PER_OPERATION = 25
OPERATIONS = sorted(
    f"{op.method.upper()} {op.path}"
    for op in (
        result.ok()
        for result in schemathesis.openapi.from_dict(
            create_app(settings_for_schema()).openapi()
        ).get_all_operations()
    )
)


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_answers_no_5xx(component_stack: Stack, label: str) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="fuzz", max_subscriptions=3)
    schema = schemathesis.openapi.from_asgi("/openapi.json", component_stack.client.app)
    (operation,) = [
        op
        for op in (result.ok() for result in schema.get_all_operations())
        if f"{op.method.upper()} {op.path}" == label
    ]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: Any) -> None:
        response = case.call(headers=component_stack.auth(key))
        assert response.status_code < 500, (case.method, case.path, response.text)
        if response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
            body = response.json()
            # Seed 002's dialect adds statusCode beside the error (rollcall.intake.seed002)
            assert set(body) - {"statusCode"} == {"error"}, body
            assert body.get("statusCode", response.status_code) == response.status_code, body
            assert {"code", "message"} <= set(body["error"]), body

    check()


def test_the_schema_has_the_operations_the_fuzz_covers() -> None:
    # A schema that lost its operations would make the fuzz above prove nothing
    assert len(OPERATIONS) >= 30
    assert "POST /v1/events/{event_id}/enrollments" in OPERATIONS
