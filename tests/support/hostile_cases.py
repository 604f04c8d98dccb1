"""Hostile requests as a table: each row one request and the answer it must get
(tests/integration/test_hostile_*.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.hostile_stack import assert_clean_answer
from tests.support.stack import Stack

NUL = "a\x00b"
CRLF = "Ada\r\nBcc: all@example.org"
SURROGATE_JSON = b'"\\ud800"'
BIG = 2**31
LONG_ZONE = "Europe/" + "A" * 10_000
YEAR_1 = "0001-01-01T00:00:00+01:00"
YEAR_9999 = "9999-12-31T23:59:59-01:00"
WEEKLY = {"type": "weekly", "starts_on": "2031-01-06T09:00:00", "weekdays": ["MO"]}


@dataclass
class Case:
    """One hostile request and the answer it must get."""

    name: str
    method: str
    path: str
    status: int
    code: str | None = None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] | None = None


def event(**fields: Any) -> dict[str, Any]:
    return {"name": "Hostile", "type": "TRAINING"} | fields


def attendee(**fields: Any) -> dict[str, Any]:
    return {"attendee": {"ref": "u1", "email": "u1@example.org"} | fields}


def raw(body: bytes) -> dict[str, Any]:
    return {"content": body, "headers": {"Content-Type": "application/json"}}


def run(stack: Stack, auth: dict[str, str], cases: list[Case]) -> None:
    """Send every case; report every wrong answer at once."""
    wrong: list[str] = []
    for case in cases:
        try:
            response = stack.client.request(
                case.method,
                case.path,
                json=case.json,
                content=case.content,
                params=case.params,
                headers=auth | case.headers,
            )
        except httpx.TransportError as exc:  # the server dropped the connection
            wrong.append(f"{case.name}: {exc!r}")
            continue
        try:
            assert_clean_answer(response, case.name)
        except AssertionError as exc:
            wrong.append(f"{case.name}: {exc}")
            continue
        code = response.json()["error"]["code"] if response.status_code >= 400 else None
        if (response.status_code, code) != (case.status, case.code):
            wrong.append(
                f"{case.name}: {response.status_code} {code}, want {case.status} {case.code}: "
                f"{response.text[:300]}"
            )
    assert not wrong, "\n".join(wrong)
