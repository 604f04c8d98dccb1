"""The dashboard's session: an HMAC-signed, HttpOnly, Secure, SameSite=Strict cookie.

The cookie holds the id of a server-side session row
(domain.access.dashboard_sessions) and an expiry, never the key. Each request
re-reads the row and its key, so logging out, revoking the key or removing its
``ops`` scope ends the session at once, for every copy of the cookie.
SameSite=Strict keeps other sites from posting the dashboard's forms (requeue,
delete, resend) with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from rollcall.config.settings import Settings
from rollcall.domain.access.dashboard_sessions import session_key
from rollcall.domain.access.keys import KnownKey, is_active
from rollcall.domain.clock import utcnow
from rollcall.domain.errors.access import OpsSignInRequired
from rollcall.intake.deps import get_session, get_settings_dep
from rollcall.models import ApiKey

logger = logging.getLogger("rollcall.ops")

COOKIE = "rollcall_ops"
SCOPE = "ops"


@lru_cache(maxsize=1)
def _process_secret() -> bytes:
    logger.warning(
        "SECRET_KEY is not set: dashboard sessions are signed with a per-process key "
        "and do not survive a restart or span several web processes"
    )
    return secrets.token_bytes(32)


def signing_secret(settings: Settings) -> bytes:
    """The key that signs dashboard cookies and CSRF tokens."""
    return settings.secret_key.encode() if settings.secret_key else _process_secret()


def _sign(secret: bytes, body: bytes) -> str:
    return base64.urlsafe_b64encode(hmac.new(secret, body, hashlib.sha256).digest()).decode()


def make_cookie(settings: Settings, session_id: uuid.UUID, now: float | None = None) -> str:
    expires = int((now or time.time()) + settings.ops_session_hours * 3600)
    body = base64.urlsafe_b64encode(json.dumps({"s": str(session_id), "e": expires}).encode())
    return f"{body.decode()}.{_sign(signing_secret(settings), body)}"


def read_cookie(
    settings: Settings, value: str | None, now: float | None = None
) -> uuid.UUID | None:
    """The session id in a valid, unexpired cookie; None otherwise."""
    if not value or "." not in value:
        return None
    body, _, signature = value.partition(".")
    # As bytes: compare_digest refuses str with non-ASCII characters (TypeError),
    # and a cookie header may carry any byte.
    expected = _sign(signing_secret(settings), body.encode()).encode()
    if not hmac.compare_digest(expected, signature.encode()):
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(body.encode()))
        if int(data["e"]) < (now or time.time()):
            return None
        return uuid.UUID(data["s"])
    except (ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class Operator:
    """Who is looking at the dashboard."""

    api_key_id: uuid.UUID
    key_prefix: str
    organisation_id: uuid.UUID
    organisation_name: str
    is_operator: bool


K = TypeVar("K", ApiKey, KnownKey)


def check_ops_key(key: K | None, *, now: datetime) -> K:
    """The key if it may still use the dashboard; raises OpsSignInRequired."""
    if key is None or not is_active(key, now=now) or SCOPE not in (key.scopes or []):
        raise OpsSignInRequired()
    return key


def current_operator(
    request: Request,
    session: Annotated[Session, Depends(get_session)],
    settings: Annotated[Settings, Depends(get_settings_dep)],
) -> Operator:
    now = utcnow()
    session_id = read_cookie(settings, request.cookies.get(COOKIE))
    found = session_key(session, session_id=session_id, now=now) if session_id else None
    key = check_ops_key(found, now=now)
    operator = Operator(
        key.id, key.prefix, key.organisation_id, key.organisation.name, key.is_operator
    )
    session.rollback()
    return operator


CurrentOperator = Annotated[Operator, Depends(current_operator)]
