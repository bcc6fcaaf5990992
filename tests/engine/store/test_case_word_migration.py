"""Migration 0010 gives the cases that exist the words of their title and reference, so the case
list finds them before their next step; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from engine.store import schema

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def test_the_cases_that_exist_are_found_by_their_title_and_reference(database_at):
    database = database_at("0009")
    with database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO office (code, name, kind, timezone) VALUES ('HTI', 'Haiti', 'country', 'UTC')")
        )
        connection.execute(
            text(
                "INSERT INTO process_version (id, process_id, version, name, files, content_hash, published_at)"
                " VALUES (1, 'mefm_request', 1, 'MEFM request', '{}', 'x', :now)"
            ),
            {"now": NOW},
        )
        connection.execute(
            text(
                "INSERT INTO process_instance (id, process_version_id, process_id, office_code, title, status, state,"
                " sla_breached, started_at, updated_at, revision, reference)"
                " VALUES (7, 1, 'mefm_request', 'HTI', 'Hurricane Marisol – Haití', 'running', '', false, :now, :now,"
                " 1, 'MEFM-HTI-2026-0007')"
            ),
            {"now": NOW},
        )
    schema.upgrade(database, "0010")
    with database.engine.connect() as connection:
        words = set(connection.execute(text("SELECT word FROM case_word WHERE instance_id = 7")).scalars())
    assert words == {"hurricane", "marisol", "haiti", "mefm", "hti", "2026", "0007"}
