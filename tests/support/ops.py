"""Helpers for dashboard tests: sign in, keep the session cookie, read /metrics."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support.stack import Stack

COOKIE = "rollcall_ops"


def sign_in(stack: Stack, key: str) -> dict[str, str]:
    """Sign in through the form; returns headers carrying the session cookie.

    The cookie is Secure, so an HTTP client over plain http keeps it to itself;
    tests hand it back explicitly.
    """
    response = stack.client.post("/ops/login", data={"api_key": key}, follow_redirects=False)
    assert response.status_code == 303, response.text
    set_cookie = response.headers["set-cookie"]
    value = set_cookie.split(";", 1)[0].split("=", 1)[1]
    return {"Cookie": f"{COOKIE}={value}"}


def metrics(stack: Stack, key: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``{sample name: {sorted labels: value}}`` parsed with prometheus_client's parser."""
    response = stack.client.get("/metrics", headers=stack.auth(key))
    assert response.status_code == 200, response.text
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def labels(**values: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in values.items()))


class Flaky:
    """Makes ``enroll`` jobs crash (a non-domain error) while ``broken``.

    With ``process_job``'s retries set to 0 the first crash dead-letters the
    message at once, as ten retries with backoff would in production.
    """

    def __init__(self, monkeypatch: Any) -> None:
        from domain.jobs import GROUP_RUNNERS
        from workers.actors import process_job

        self.broken = True
        original = GROUP_RUNNERS["enroll"]

        def runner(factory: Any, job_id: Any, **options: Any) -> list[Any]:
            if self.broken:
                raise RuntimeError("database hiccup: connection reset")
            return original(factory, job_id, **options)

        monkeypatch.setitem(GROUP_RUNNERS, "enroll", runner)
        monkeypatch.setitem(process_job.options, "max_retries", 0)
