"""Request dependencies: settings, a database session, the authenticated caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from rollcall.config.settings import Settings
from rollcall.domain.access.keys import authenticate
from rollcall.domain.errors.access import InsufficientScope
from rollcall.models.db import sessions_of

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rc_...`")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(settings: Annotated[Settings, Depends(get_settings_dep)]) -> Iterator[Session]:
    with sessions_of(settings)() as session:
        yield session


@dataclass(frozen=True)
class Caller:
    api_key_id: uuid.UUID
    organisation_id: uuid.UUID
    scopes: frozenset[str]
    is_operator: bool


def get_caller(
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    key = authenticate(session, credentials.credentials if credentials else None)
    caller = Caller(key.id, key.organisation_id, frozenset(key.scopes), key.is_operator)
    session.rollback()  # end the read transaction; routes open their own
    return caller


def require(*scopes: str) -> Callable[[Caller], Caller]:
    """A dependency that lets the caller through if it holds any of ``scopes``."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.scopes.intersection(scopes):
            raise InsufficientScope(required=list(scopes))
        return caller

    return check


#: The scopes that may read events; reading enrollments also lets in the
#: client that enrolls (``students:write``).
_READ_EVENTS = ("events:read", "events:write")
EventReader = Annotated[Caller, Depends(require(*_READ_EVENTS))]
EnrollmentReader = Annotated[Caller, Depends(require(*_READ_EVENTS, "students:write"))]
DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
