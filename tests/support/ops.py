"""Helpers for dashboard tests: sign in, keep the session cookie, read /metrics."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from rollcall.messaging.ops_middleware import OpsStats
from tests.support.stack import Stack

COOKIE = "rollcall_ops"
CSRF_COOKIE = "rollcall_ops_csrf"
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def cookie_value(response: Any, name: str) -> str:
    """A cookie set by ``response`` (httpx keeps Secure cookies off plain http)."""
    for header in response.headers.get_list("set-cookie"):
        key, _, rest = header.partition("=")
        if key == name:
            return str(rest.split(";", 1)[0])
    raise AssertionError(f"no {name} cookie in {response.headers.get_list('set-cookie')}")


def csrf_token(page: str) -> str:
    """The CSRF token the forms of a dashboard page carry."""
    found = _CSRF_INPUT.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class OpsCookies(dict[str, str]):
    """Request headers carrying a browser's dashboard cookies, and the CSRF token
    its forms carry: ``client.post(url, data=cookies.form(...), headers=cookies)``."""

    def __init__(self, cookies: dict[str, str], token: str) -> None:
        super().__init__(Cookie="; ".join(f"{k}={v}" for k, v in cookies.items()))
        self.cookies = cookies
        self.csrf_token = token

    def form(self, **fields: str) -> dict[str, str]:
        return {"csrf_token": self.csrf_token, **fields}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "get").lower() == "post":
            self._open = {"@action": values.get("action", "")}
        elif tag in ("input", "button") and self._open is not None and "name" in values:
            self._open[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._open is not None:
            self.forms.append(self._open)
            self._open = None


def post_forms(page: str) -> list[dict[str, str]]:
    """Each POST form of a page: its target as ``@action``, and its named fields' values."""
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def open_login(stack: Stack) -> OpsCookies:
    """What a browser holds after opening the sign-in form: its CSRF cookie and token."""
    page = stack.client.get("/ops/login")
    assert page.status_code == 200, page.text
    return OpsCookies({CSRF_COOKIE: cookie_value(page, CSRF_COOKIE)}, csrf_token(page.text))


def sign_in(stack: Stack, key: str) -> OpsCookies:
    """Sign in through the form, as a browser would (open it, post it with its
    CSRF token); returns headers carrying the session and CSRF cookies.

    The cookies are Secure, so an HTTP client over plain http keeps them to
    itself; tests hand them back explicitly.
    """
    browser = open_login(stack)
    response = stack.client.post(
        "/ops/login", data=browser.form(api_key=key), headers=browser, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    cookies = browser.cookies | {COOKIE: cookie_value(response, COOKIE)}
    return OpsCookies(cookies, browser.csrf_token)


def flush_ops_stats(stack: Stack) -> None:
    """Write the in-process worker's summed Dramatiq counters to Redis now
    (messaging.ops_middleware flushes them every second otherwise)."""
    for middleware in stack.broker.middleware:
        if isinstance(middleware, OpsStats):
            middleware.flush()


def metrics(stack: Stack, key: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``{sample name: {sorted labels: value}}`` parsed with prometheus_client's
    parser, after the in-process worker's counters are flushed."""
    flush_ops_stats(stack)
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

    def __init__(
        self, monkeypatch: Any, message: str = "database hiccup: connection reset"
    ) -> None:
        from rollcall.domain.jobs.engine import GROUP_RUNNERS
        from rollcall.workers.actors import process_job

        self.broken = True
        original = GROUP_RUNNERS["enroll"]

        def runner(factory: Any, job_id: Any, **options: Any) -> list[Any]:
            if self.broken:
                raise RuntimeError(message)
            return original(factory, job_id, **options)

        monkeypatch.setitem(GROUP_RUNNERS, "enroll", runner)
        monkeypatch.setitem(process_job.options, "max_retries", 0)
