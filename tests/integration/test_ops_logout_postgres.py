"""On PostgreSQL over real HTTP: dashboard logout ends the session on the
server, so the old cookie answers 303 to the sign-in page."""

from __future__ import annotations

import pytest

from tests.support.ops import OpsCookies, sign_in
from tests.support.stack import live_api


def test_the_old_cookie_is_sent_to_the_sign_in_page_after_logout(
    monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    with live_api(
        monkeypatch, database_url=postgres_url, smtp_url="smtp://127.0.0.1:9", secret_key="s"
    ) as stack:
        browser = sign_in(stack, stack.key(scopes=["ops"]))
        copied = OpsCookies(dict(browser.cookies), browser.csrf_token)
        assert stack.client.get("/ops", headers=browser).status_code == 200

        out = stack.client.post(
            "/ops/logout", data=browser.form(), headers=browser, follow_redirects=False
        )

        assert (out.status_code, out.headers["location"]) == (303, "/ops/login")
        again = stack.client.get("/ops", headers=copied, follow_redirects=False)
        assert (again.status_code, again.headers["location"]) == (303, "/ops/login")
