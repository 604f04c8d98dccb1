"""Migrations one revision at a time, so the CLI can show progress."""

from __future__ import annotations

from collections.abc import Iterator

from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from rollcall.models.db import normalise_url
from rollcall.models.migrate import alembic_config


def pending_revisions(url: str, target: str = "head") -> list[str]:
    """Revisions not applied yet, oldest first (a linear history is assumed)."""
    script = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as connection:
            applied = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    pending: list[str] = []
    for revision in script.walk_revisions("base", target):
        if revision.revision in applied:
            break
        pending.append(revision.revision)
    return list(reversed(pending))


def upgrade_stepwise(url: str, target: str = "head") -> Iterator[str]:
    """Apply each pending revision in turn, yielding it once applied."""
    config = alembic_config(url)
    for revision in pending_revisions(url, target):
        command.upgrade(config, revision)
        yield revision
