"""Request dependencies: settings, a database session, the authenticated caller."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from rollcall.config.settings import Settings
from rollcall.domain.access.attendee_tokens import (
    EndUser,
    authenticate_end_user,
    is_end_user_token,
)
from rollcall.domain.access.keys import KnownKey
from rollcall.domain.clock import utcnow
from rollcall.domain.errors.access import InsufficientScope
from rollcall.messaging.key_epoch import ApiKeys
from rollcall.models.db import close_session, read_sessions_of, sessions_of

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer rc_...`")


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(settings: Annotated[Settings, Depends(get_settings_dep)]) -> Iterator[Session]:
    session = sessions_of(settings)()
    try:
        yield session
    finally:
        close_session(session)


@dataclass(frozen=True)
class Caller:
    api_key_id: uuid.UUID
    organisation_id: uuid.UUID
    scopes: frozenset[str]
    is_operator: bool

    @classmethod
    def of(cls, key: KnownKey) -> Caller:
        return cls(key.id, key.organisation_id, frozenset(key.scopes), key.is_operator)


def api_keys_of(request: Request) -> ApiKeys:
    """The process's key lookup (its cache), made with the app (intake.app)."""
    keys: ApiKeys = request.app.state.api_keys
    return keys


def caller_of(
    keys: ApiKeys, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Caller:
    """The caller of this API key (INVALID_API_KEY otherwise); its last use noted."""
    now = utcnow()
    key = keys.authenticate(session, credentials.credentials if credentials else None, now=now)
    caller = Caller.of(key)
    if keys.note_use(session, key, now=now):
        session.commit()  # at most once a minute per key
    else:
        session.rollback()  # end the read transaction, if any; routes open their own
    return caller


def get_caller(
    keys: Annotated[ApiKeys, Depends(api_keys_of)],
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    return caller_of(keys, session, credentials)


def require(*scopes: str) -> Callable[[Caller], Caller]:
    """A dependency that lets the caller through if it holds any of ``scopes``."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.scopes.intersection(scopes):
            raise InsufficientScope(required=list(scopes))
        return caller

    return check


#: Whoever calls a route that also takes an attendee's end-user token.
Credential = Caller | EndUser


def credential_of(
    keys: ApiKeys, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Credential:
    """An API key (Caller) or an attendee's end-user token (EndUser, ``rct_...``);
    an unknown token is INVALID_TOKEN, an unknown key INVALID_API_KEY."""
    plaintext = credentials.credentials if credentials else None
    if not is_end_user_token(plaintext):
        return caller_of(keys, session, credentials)
    user = authenticate_end_user(session, plaintext, now=utcnow())
    session.rollback()  # end the read transaction; routes open their own
    return user


def get_credential(
    keys: Annotated[ApiKeys, Depends(api_keys_of)],
    session: Annotated[Session, Depends(get_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Credential:
    return credential_of(keys, session, credentials)


def require_for_end_user(*scopes: str) -> Callable[[Credential], Credential]:
    """Like ``require``, but an end-user token passes too: the route then acts
    for that attendee only (domain.access.attendee_tokens)."""

    def check(credential: Annotated[Credential, Depends(get_credential)]) -> Credential:
        return _allowed(credential, scopes)

    return check


def _allowed(credential: Credential, scopes: tuple[str, ...]) -> Credential:
    """An end-user token, or a key holding any of ``scopes`` (InsufficientScope)."""
    if isinstance(credential, Caller) and not credential.scopes.intersection(scopes):
        raise InsufficientScope(required=list(scopes))
    return credential


def credential_in_one_hop(*scopes: str) -> Callable[..., Awaitable[Credential]]:
    """``require_for_end_user`` for an async route. A key in the process's
    cache under the epoch, read on the event loop, with its last use not due,
    costs no threadpool call at all. Anything else costs one (sync
    dependencies cost a hop each: settings, session, credential, scope
    check, and the session's close), on an autocommit read
    session (no BEGIN/ROLLBACK round trips; ``note_use``'s rare UPDATE
    commits on its own). A key comes from the process's cache while the
    revocation epoch holds (messaging.key_epoch), a token from the database:
    a revoked key or token is refused at the next request."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Credential:
        settings: Settings = request.app.state.settings
        keys = api_keys_of(request)
        plaintext = credentials.credentials if credentials else None
        if plaintext and not is_end_user_token(plaintext):
            # A cache hit needs no hop: the epoch is read on the loop.
            known = await keys.cached(plaintext, now=utcnow())
            if known is not None:
                return _allowed(Caller.of(known), scopes)

        def look_up() -> Credential:
            with read_sessions_of(settings)() as session:
                credential = credential_of(keys, session, credentials)
            return _allowed(credential, scopes)

        return await run_in_threadpool(look_up)

    return check


def creator_of(credential: Credential) -> dict[str, uuid.UUID]:
    """The job columns that name the credential creating a job."""
    if isinstance(credential, EndUser):
        return {"created_by_token_id": credential.token_id}
    return {"created_by_key_id": credential.api_key_id}


#: The scopes that may read events; reading enrollments also lets in the
#: client that enrolls (``students:write``).
_READ_EVENTS = ("events:read", "events:write")
EventReader = Annotated[Caller, Depends(require(*_READ_EVENTS))]
EnrollmentReader = Annotated[Caller, Depends(require(*_READ_EVENTS, "students:write"))]
#: Enrolling and cancelling: the upstream system's key, or the attendee's own token.
StudentOrEndUser = Annotated[Credential, Depends(require_for_end_user("students:write"))]
#: Reading a job: any credential (the domain decides, domain.jobs.engine.read_job).
AnyCredential = Annotated[Credential, Depends(get_credential)]
DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
ProcessKeys = Annotated[ApiKeys, Depends(api_keys_of)]
