"""Schemathesis's GraphQL fuzz of /graphql: every root field, queries and
mutations, with generated arguments and selections. No 5xx, and every error
carries a code in ``extensions.error``."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from rollcall.intake.graphql.schema import make_schema
from tests.support.factories import published_event
from tests.support.hostile_stack import settings_for_schema
from tests.support.stack import Stack

EXAMPLES_PER_FIELD = 25
FIELDS = sorted(
    f"{op.label}"
    for op in (
        result.ok()
        for result in schemathesis.graphql.from_file(
            make_schema(settings_for_schema()).as_str()
        ).get_all_operations()
    )
)


@pytest.mark.parametrize("label", FIELDS)
def test_field_answers_no_5xx(component_stack: Stack, label: str) -> None:
    key = component_stack.key()
    published_event(component_stack, key, ref="fuzz", max_subscriptions=3)
    schema = schemathesis.graphql.from_asgi("/graphql", component_stack.client.app)
    (operation,) = [
        op for op in (result.ok() for result in schema.get_all_operations()) if op.label == label
    ]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_FIELD,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def check(case: Any) -> None:
        response = case.call(headers=component_stack.auth(key))
        assert response.status_code < 500, (case.body, response.text)
        body = response.json()
        if response.status_code >= 400:
            assert set(body) == {"error"} and "code" in body["error"], body
            return
        for error in body.get("errors", []):
            assert error["extensions"]["error"]["code"], error
            assert error["extensions"]["error"]["code"] != "INTERNAL_ERROR", (case.body, error)

    check()


def test_the_fuzz_covers_every_root_field() -> None:
    assert {"Query.offerEvent", "Query.offer", "Mutation.updateOfferEvent"} <= set(FIELDS)
    schema = make_schema(settings_for_schema())._schema
    roots = [schema.query_type, schema.mutation_type]
    assert sorted(f"{root.name}.{name}" for root in roots if root for name in root.fields) == FIELDS
