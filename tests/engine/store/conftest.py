"""A database migrated to an older revision, for the tests of what a later migration does to the
rows that exist; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from engine.store import schema
from engine.store.uow import Database
from tests.ci import in_ci
from tests.conftest import _postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at(request, tmp_path):
    """`database_at("0009")`: a new database migrated up to that revision, dropped afterwards."""
    opened: list[tuple[Database, object]] = []

    def migrated(revision: str) -> Database:
        cleanup = None
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'at_{revision}.sqlite3'}"
        else:
            try:
                url, cleanup = _postgres_database()
            except Exception as error:  # noqa: BLE001 - as tests/conftest.py: no server, no PostgreSQL half
                (pytest.fail if in_ci() else pytest.skip)(f"PostgreSQL is not reachable: {error}")
        database = Database.connect(url)
        opened.append((database, cleanup))
        schema.upgrade(database, revision)
        return database

    yield migrated
    for database, cleanup in opened:
        database.engine.dispose()
        if cleanup:
            cleanup()
