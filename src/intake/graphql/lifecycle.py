"""Seed 001 over GraphQL: editName, addOrEditDescription, addOrEditRegistrationEnd,
unpublishEvent and deleteEvent. Each takes ``input`` with ``eventId`` (the id,
or the ref) and answers ``{success}`` (``deleteEvent``: ``{eventId}``); a refusal
is the domain's, in the seed's sentence (errors.SEED_001_SENTENCES)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import strawberry
from sqlalchemy.orm import Session
from strawberry.types import Info

from rollcall.domain.clock import utcnow
from rollcall.domain.events.admin import delete_event, unpublish_event, update_event
from rollcall.domain.events.catalog import get_event
from rollcall.intake.event_schemas import EventPatch
from rollcall.intake.graphql.context import Context
from rollcall.intake.graphql.errors import SEED_001_SENTENCES, seed_sentences
from rollcall.intake.graphql.validation import valid
from rollcall.intake.routes.events import horizon
from rollcall.models import Event

WRITE = ("events:write",)


@strawberry.input
class EditNameInput:
    event_id: strawberry.ID
    name: str


@strawberry.input
class AddOrEditDescriptionInput:
    event_id: strawberry.ID
    description: str


@strawberry.input
class AddOrEditRegistrationEndInput:
    event_id: strawberry.ID
    registration_end: datetime


@strawberry.input
class UnpublishEventInput:
    event_id: strawberry.ID


@strawberry.input
class DeleteEventInput:
    event_id: strawberry.ID


@strawberry.type
class Success:
    success: bool


@strawberry.type
class DeleteEventPayload:
    event_id: strawberry.ID


async def _on_event(
    info: Info[Context, None],
    operation: str,
    event_id: strawberry.ID,
    change: Callable[[Session, Event], Any],
) -> Any:
    """``change(session, event)`` on the caller's event, in one transaction,
    its refusals in ``operation``'s sentences."""
    caller = await info.context.caller(*WRITE)

    def write(session: Session) -> Any:
        with seed_sentences(SEED_001_SENTENCES[operation]):
            event = get_event(
                session, organisation_id=caller.organisation_id, id_or_ref=str(event_id)
            )
            return change(session, event)

    return await info.context.write(write)


async def _edit(
    info: Info[Context, None], operation: str, event_id: strawberry.ID, body: dict[str, Any]
) -> Success:
    """REST's PATCH of the one field in ``body``."""
    patch = valid(EventPatch, body)
    settings = info.context.settings

    def change(session: Session, event: Event) -> None:
        update_event(
            session,
            event=event,
            changes=patch.changes(),
            now=utcnow(),
            horizon_until=horizon(settings),
        )

    await _on_event(info, operation, event_id, change)
    return Success(success=True)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Rename a draft event.")
    async def edit_name(self, info: Info[Context, None], input: EditNameInput) -> Success | None:
        return await _edit(info, "editName", input.event_id, {"name": input.name})

    @strawberry.mutation(description="Set the description (not once the event is completed).")
    async def add_or_edit_description(
        self, info: Info[Context, None], input: AddOrEditDescriptionInput
    ) -> Success | None:
        return await _edit(
            info, "addOrEditDescription", input.event_id, {"description": input.description}
        )

    @strawberry.mutation(description="Set the registration deadline of a draft event.")
    async def add_or_edit_registration_end(
        self, info: Info[Context, None], input: AddOrEditRegistrationEndInput
    ) -> Success | None:
        return await _edit(
            info,
            "addOrEditRegistrationEnd",
            input.event_id,
            {"registration_end": input.registration_end},
        )

    @strawberry.mutation(description="Back to draft, if no seat is taken or reserved.")
    async def unpublish_event(
        self, info: Info[Context, None], input: UnpublishEventInput
    ) -> Success | None:
        await _on_event(
            info,
            "unpublishEvent",
            input.event_id,
            lambda session, event: unpublish_event(session, event=event, now=utcnow()),
        )
        return Success(success=True)

    @strawberry.mutation(description="Delete a draft event that never had an enrollment.")
    async def delete_event(
        self, info: Info[Context, None], input: DeleteEventInput
    ) -> DeleteEventPayload | None:
        deleted = await _on_event(
            info,
            "deleteEvent",
            input.event_id,
            lambda session, event: delete_event(session, event=event),
        )
        return DeleteEventPayload(event_id=strawberry.ID(str(deleted)))
