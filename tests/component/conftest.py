"""The component tier runs on SQLite and the StubBroker, in-process: a test that
needs PostgreSQL or a real Redis belongs in tests/integration/ (where a test
body shared by both tiers is collected again, as
tests/integration/test_enroll_groups_postgres.py does)."""

from __future__ import annotations

import pytest

#: Fixtures that reach a real PostgreSQL or Redis server.
REAL_SERVICE_FIXTURES = frozenset(
    {"postgres_database", "postgres_url", "redis_server", "real_stack"}
)


@pytest.fixture(autouse=True)
def _in_process(request: pytest.FixtureRequest) -> None:
    """Fail a component test that asks for a real service, by name or by parameter."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    asked = sorted(REAL_SERVICE_FIXTURES & set(request.fixturenames))
    asked += [f"[{value}]" for value in params.values() if value == "postgres"]
    if asked:
        pytest.fail(
            f"component tests run in-process; {request.node.nodeid} asks for "
            f"{', '.join(asked)}: move it to tests/integration/",
            pytrace=False,
        )
