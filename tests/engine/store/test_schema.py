"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.store.db import Base


def test_migrations_match_the_models(db):
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_every_table_of_the_models_exists_after_migrating(db):
    with db.engine.connect() as connection:
        existing = set(MigrationContext.configure(connection).impl.dialect.get_table_names(connection))
    assert set(Base.metadata.tables) <= existing
