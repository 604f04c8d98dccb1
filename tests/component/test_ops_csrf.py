"""Every dashboard form carries a CSRF token bound to the browser's cookie;
a POST without it, with a wrong one, or with another browser's is refused
with CSRF_TOKEN_INVALID and changes nothing. Sign-in included."""

from __future__ import annotations

import re
import uuid

from fastapi.routing import APIRoute
from sqlalchemy import select

from rollcall.intake.ops.routes import router as ops_router
from rollcall.models import EmailMessage
from tests.support.factories import enroll, published_event
from tests.support.ops import COOKIE, CSRF_COOKIE, OpsCookies, open_login, sign_in
from tests.support.stack import Stack

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def refused(response: object) -> bool:
    status = getattr(response, "status_code", None)
    return status == 403 and "CSRF_TOKEN_INVALID" in getattr(response, "text", "")


def test_sign_in_needs_the_token_of_this_browser(component_stack: Stack) -> None:
    key = component_stack.key(scopes=["ops"])
    browser = open_login(component_stack)
    other = open_login(component_stack)
    assert browser.cookies[CSRF_COOKIE] != other.cookies[CSRF_COOKIE]

    attempts = {
        "no token": ({"api_key": key}, browser),
        "wrong token": ({"api_key": key, "csrf_token": "0" * 64}, browser),
        "another browser's token": (other.form(api_key=key), browser),
        "no cookie": (browser.form(api_key=key), {}),
        "empty token": ({"api_key": key, "csrf_token": ""}, browser),
    }
    for what, (form, headers) in attempts.items():
        response = component_stack.client.post(
            "/ops/login", data=form, headers=headers, follow_redirects=False
        )
        assert refused(response), (what, response.status_code, response.text[:200])
        assert f"{COOKIE}=" not in response.headers.get("set-cookie", ""), what

    ok = component_stack.client.post(
        "/ops/login", data=browser.form(api_key=key), headers=browser, follow_redirects=False
    )
    assert ok.status_code == 303


def test_every_unsafe_dashboard_route_refuses_a_form_without_the_token(
    component_stack: Stack,
) -> None:
    # Given a signed-in operator and a failed mail a forged form would resend
    key = component_stack.key(operator=True)
    published_event(component_stack, key, ref="c")
    component_stack.sink.replies.append("550 5.1.1 no")
    enroll(component_stack, key, "c", "ada")
    component_stack.drain()
    with component_stack.db() as session:
        mail_id = session.scalars(select(EmailMessage.id)).one()
    signed_in = sign_in(component_stack, key)
    # a page forged elsewhere has the victim's cookies but not the token
    forged = OpsCookies(signed_in.cookies, "f" * 64)

    routes = [
        (method, route.path)
        for route in ops_router.routes
        if isinstance(route, APIRoute)
        for method in sorted(route.methods & UNSAFE)
    ]
    assert ("POST", "/ops/mail/{email_id}/resend") in routes and len(routes) >= 4
    for method, path in routes:
        url = re.sub(r"\{email_id\}", str(mail_id), path)
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), url)
        for headers, form in (
            (signed_in, {"action": "delete"}),
            (forged, forged.form(action="delete")),
        ):
            response = component_stack.client.request(
                method, url, data=form, headers=headers, follow_redirects=False
            )
            assert refused(response), (method, path, response.status_code, response.text[:200])

    # Then nothing happened: the mail is still failed, the session still works
    with component_stack.db() as session:
        assert session.get(EmailMessage, mail_id).state == "failed"  # type: ignore[union-attr]
    assert component_stack.client.get("/ops", headers=signed_in).status_code == 200
    resend = component_stack.client.post(
        f"/ops/mail/{mail_id}/resend",
        data=signed_in.form(),
        headers=signed_in,
        follow_redirects=False,
    )
    assert resend.status_code == 303
