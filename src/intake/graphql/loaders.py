"""The request's DataLoaders: a field of many objects is one batched read.

Each loader is made once per request (on the context) and calls one reader of
domain.events.batches through ``Context.run``; the values are the GraphQL
types, built in the thread that read the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session
from strawberry.dataloader import DataLoader

from rollcall.intake.graphql.context import Context

V = TypeVar("V")


def loader(
    context: Context,
    name: str,
    read: Callable[[Session, Sequence[uuid.UUID]], dict[uuid.UUID, V]],
    default: Callable[[], V],
) -> DataLoader[uuid.UUID, V]:
    """The request's loader ``name``: ``read(session, keys)`` answers a value per
    key found; a key not found gets ``default()``."""
    made: Any = context.loaders.get(name)
    if made is None:

        async def load(keys: list[uuid.UUID]) -> list[V]:
            found = await context.run(lambda session: read(session, keys))
            return [found[key] if key in found else default() for key in keys]

        made = DataLoader(load_fn=load)
        context.loaders[name] = made
    result: DataLoader[uuid.UUID, V] = made
    return result
