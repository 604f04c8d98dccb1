"""CSRF tokens on every dashboard form, sign-in included.

A browser gets a random id in a cookie (``rollcall_ops_csrf``: HttpOnly,
SameSite=Strict, path /ops) with the first dashboard page it is shown. Every
form carries ``HMAC(secret, id)`` in a hidden ``csrf_token`` field, and every
POST under /ops is refused with CSRF_TOKEN_INVALID unless the field matches
the cookie: another site can neither read the cookie nor compute the field.

SameSite=Strict already keeps the session cookie off other sites' posts; the
token also covers the sign-in form (there is no session yet, and a forged
sign-in would put the victim in the attacker's session) and browsers that
ignore SameSite.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request
from fastapi.responses import Response

from rollcall.config.settings import Settings
from rollcall.domain.errors.access import CsrfTokenInvalid
from rollcall.intake.ops.session import signing_secret

CSRF_COOKIE = "rollcall_ops_csrf"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def browser_id(request: Request) -> str | None:
    """The id in this browser's CSRF cookie, if it has a well-formed one."""
    value = request.cookies.get(CSRF_COOKIE)
    return value if value and _BROWSER_ID.match(value) else None


def token_for(settings: Settings, browser: str) -> str:
    """The token this browser's forms carry."""
    return hmac.new(
        signing_secret(settings), f"csrf:{browser}".encode(), hashlib.sha256
    ).hexdigest()


def issue_token(request: Request, settings: Settings) -> tuple[str, str | None]:
    """The token for a page's forms, and the new browser id to set as the cookie
    when this browser has none yet (else None)."""
    existing = browser_id(request)
    browser = existing or secrets.token_urlsafe(32)
    return token_for(settings, browser), None if existing else browser


def set_csrf_cookie(response: Response, settings: Settings, browser: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        browser,
        httponly=True,
        secure=settings.ops_cookie_secure,
        samesite="strict",
        path="/ops",
    )


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose form token does not match its cookie.

    A dependency of the whole dashboard router, so a form added later is
    checked without anyone remembering to.
    """
    if request.method in SAFE_METHODS:
        return
    browser = browser_id(request)
    sent = (await request.form()).get(CSRF_FIELD)
    settings: Settings = request.app.state.settings
    if (
        browser is None
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent, token_for(settings, browser))
    ):
        raise CsrfTokenInvalid()
