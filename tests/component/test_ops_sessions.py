"""Dashboard sessions live on the server: logout ends the session for every copy
of the cookie (it then answers 303 to the sign-in page), in every app instance;
every POST form of the dashboard, logout included, carries the CSRF token."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from rollcall.domain.clock import utcnow
from rollcall.intake.app import create_app
from rollcall.models import DashboardSession, EmailMessage
from tests.support.factories import enroll, published_event
from tests.support.ops import OpsCookies, post_forms, sign_in
from tests.support.stack import Stack


def page(client: object, cookies: OpsCookies, path: str = "/ops") -> tuple[int, str]:
    response = client.get(path, headers=cookies, follow_redirects=False)  # type: ignore[attr-defined]
    return response.status_code, response.headers.get("location", "")


def test_logout_ends_the_session_on_the_server(component_stack: Stack) -> None:
    # Given a signed-in browser, whose cookie someone copied
    key = component_stack.key(scopes=["ops"])
    browser = sign_in(component_stack, key)
    copied = OpsCookies(dict(browser.cookies), browser.csrf_token)
    assert page(component_stack.client, browser) == (200, "")

    # When the browser signs out
    response = component_stack.client.post(
        "/ops/logout", data=browser.form(), headers=browser, follow_redirects=False
    )

    # Then the cookie is dropped, and the copy answers 303 to the sign-in page
    assert (response.status_code, response.headers["location"]) == (303, "/ops/login")
    assert 'rollcall_ops=""' in response.headers["set-cookie"]
    for path in ("/ops", "/ops/jobs", "/ops/mail", "/ops/events"):
        assert page(component_stack.client, copied, path) == (303, "/ops/login"), path
    with component_stack.db() as session:
        row = session.scalars(select(DashboardSession)).one()
        assert row.ended_at is not None
    # and a form posted with it (its CSRF token still right) is refused, 401 as before sign-in
    resend = component_stack.client.post(
        "/ops/mail/00000000-0000-0000-0000-000000000000/resend",
        data=copied.form(),
        headers=copied,
        follow_redirects=False,
    )
    assert resend.status_code == 401 and "Sign in" in resend.text


def test_logout_ends_only_its_own_session_and_holds_in_another_instance(
    component_stack: Stack,
) -> None:
    key = component_stack.key(scopes=["ops"])
    first, second = sign_in(component_stack, key), sign_in(component_stack, key)
    with TestClient(create_app(component_stack.settings)) as other_instance:
        assert page(other_instance, first) == (200, "")

        component_stack.client.post(
            "/ops/logout", data=first.form(), headers=first, follow_redirects=False
        )

        assert page(other_instance, first) == (303, "/ops/login")
        assert page(other_instance, second) == (200, "")
        assert page(component_stack.client, second) == (200, "")


def test_an_expired_session_row_signs_out(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["ops"])
    browser = sign_in(component_stack, key)
    with component_stack.db() as session:
        session.execute(update(DashboardSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert page(component_stack.client, browser) == (303, "/ops/login")
    # a new sign-in works, and clears rows dead for more than a day
    with component_stack.db() as session:
        session.execute(update(DashboardSession).values(expires_at=utcnow() - timedelta(days=2)))
    fresh = sign_in(component_stack, key)
    assert page(component_stack.client, fresh) == (200, "")
    with component_stack.db() as session:
        assert len(session.scalars(select(DashboardSession)).all()) == 1


def test_logout_without_the_csrf_token_is_refused_and_ends_nothing(
    component_stack: Stack,
) -> None:
    key = component_stack.key(scopes=["ops"])
    browser = sign_in(component_stack, key)
    forged = component_stack.client.post(
        "/ops/logout", data={}, headers=browser, follow_redirects=False
    )
    assert forged.status_code == 403 and "CSRF_TOKEN_INVALID" in forged.text
    assert page(component_stack.client, browser) == (200, "")


def test_every_post_form_on_every_page_carries_the_csrf_token(component_stack: Stack) -> None:
    # Given pages with forms: a failed mail (resend), the layout's sign-out
    key = component_stack.key(operator=True)
    published_event(component_stack, key, ref="c")
    component_stack.sink.replies.append("550 5.1.1 no")
    enroll(component_stack, key, "c", "ada")
    component_stack.drain()
    with component_stack.db() as session:
        assert session.scalars(select(EmailMessage.state)).one() == "failed"
    browser = sign_in(component_stack, key)

    actions: set[str] = set()
    pages = ("/ops/login", "/ops", "/ops/jobs", "/ops/mail", "/ops/dead-letters", "/ops/events")
    for path in pages:
        response = component_stack.client.get(path, headers=browser)
        assert response.status_code == 200, path
        for form in post_forms(response.text):
            assert form.get("csrf_token") == browser.csrf_token, (path, form)
            actions.add(form["@action"].split("/")[2] if form["@action"].count("/") > 1 else "")
    assert {"login", "logout", "mail"} <= actions, actions
