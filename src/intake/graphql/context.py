"""The request's context: its database session, its settings and its credential.

Authentication is REST's own (intake.deps): the same Bearer API key with the
same scopes, or an attendee's end-user token where a field takes one; every
lookup then stays inside the caller's organisation. The credential is checked
lazily, by the first field that needs it, so that a refusal is a GraphQL error
with its code like any other.

The domain is synchronous SQLAlchemy: ``run`` calls it in the threadpool
(anyio's default limiter, bounded to WEB_THREADS as for REST routes), one call
at a time per request, since a Session is not for concurrent use. What it
returns must be plain values (the types' ``of``), never ORM rows to be read
later on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.orm import Session
from strawberry.fastapi import BaseContext

from rollcall.config.settings import Settings
from rollcall.intake.deps import (
    Caller,
    Credential,
    api_keys_of,
    bearer,
    caller_of,
    credential_of,
    require,
    require_for_end_user,
)
from rollcall.messaging.key_epoch import ApiKeys
from rollcall.models.db import close_session, read_sessions_of, sessions_of

T = TypeVar("T")


class Context(BaseContext):
    def __init__(
        self,
        *,
        session: Session,
        settings: Settings,
        keys: ApiKeys,
        credentials: HTTPAuthorizationCredentials | None,
    ) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        self._keys = keys
        self._credentials = credentials
        self._lock = asyncio.Lock()
        self._caller: Caller | None = None
        self._credential: Credential | None = None
        #: Per-request DataLoaders (graphql.loaders), made on first use.
        self.loaders: dict[str, Any] = {}

    async def run(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` in the threadpool, after any other call of this request."""
        async with self._lock:
            return await anyio.to_thread.run_sync(fn, self.session)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` in the threadpool on a session of its own that only
        reads, statement by statement (models.db.read_sessions_of: on
        PostgreSQL no BEGIN/ROLLBACK round trips), closed on return."""

        def on_own_session(_session: Session) -> T:
            with read_sessions_of(self.settings)() as session:
                return fn(session)

        return await self.run(on_own_session)

    async def write(self, fn: Callable[[Session], T]) -> T:
        """``fn(session)`` in one transaction, committed on return (a refusal
        rolls it back). A read transaction left open by an earlier field
        ends first."""

        def in_transaction(session: Session) -> T:
            if session.in_transaction():
                session.rollback()
            with session.begin():
                return fn(session)

        return await self.run(in_transaction)

    def credential_in(self, session: Session, *scopes: str) -> Credential:
        """``credential`` from inside ``run`` (the same lookup, once per request),
        for a field that reads right after it: no hop of its own."""
        if self._credential is None:
            self._credential = credential_of(self._keys, session, self._credentials)
        return require_for_end_user(*scopes)(self._credential)

    async def caller(self, *scopes: str) -> Caller:
        """The API key's caller if it holds one of ``scopes`` (REST's ``require``).
        Raises INVALID_API_KEY / UNAUTHENTICATED / INSUFFICIENT_SCOPE as REST does."""
        if self._caller is None:
            self._caller = await self.run(lambda s: caller_of(self._keys, s, self._credentials))
        return require(*scopes)(self._caller)

    async def credential(self, *scopes: str) -> Credential:
        """An API key holding one of ``scopes``, or an attendee's end-user token
        (REST's ``require_for_end_user``)."""
        if self._credential is None:
            self._credential = await self.run(
                lambda s: credential_of(self._keys, s, self._credentials)
            )
        return require_for_end_user(*scopes)(self._credential)


async def get_context(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> AsyncIterator[Context]:
    """The request's context, made on the event loop: REST's sync dependencies
    (session, settings) would each cost a hop to the threadpool and back. A
    new Session touches no connection until its first statement, in ``run``."""
    settings: Settings = request.app.state.settings
    session = sessions_of(settings)()
    try:
        yield Context(
            session=session, settings=settings, keys=api_keys_of(request), credentials=credentials
        )
    finally:
        if session.in_transaction():
            await anyio.to_thread.run_sync(close_session, session)  # a rollback: I/O
        else:
            close_session(session)
