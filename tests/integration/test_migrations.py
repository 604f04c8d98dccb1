"""Migrations apply on SQLite and PostgreSQL, match the models, and downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from models import Base, migrate
from models.db import normalise_url
from tests.support.services import reset_postgres


def assert_models_match(url: str) -> None:
    engine = create_engine(normalise_url(url))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ: {diff}"


def test_sqlite_upgrade_matches_models_and_downgrades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    assert_models_match(url)
    migrate.downgrade(url, "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()


def test_postgres_upgrade_matches_models_and_downgrades(postgres_database: str) -> None:
    try:
        assert_models_match(postgres_database)
        migrate.downgrade(postgres_database, "base")
        engine = create_engine(normalise_url(postgres_database))
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        engine.dispose()
    finally:
        reset_postgres(postgres_database)
