"""Migration 0009 numbers the cases that exist: KIND-OFFICE-YEAR-NNNN in the order they were
started, one counter per prefix, so the next case started goes on from there; on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from engine.clock import FixedClock
from engine.runtime import references
from engine.store import schema

T = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_the_cases_that_exist_get_references_in_the_order_they_were_started(database_at):
    database = database_at("0008")
    cases = [  # (id, process, office, started): ids not in the order of starting, two years, two offices
        (1, "mefm_request", "HTI", T + timedelta(days=2)),
        (2, "mefm_request", "HTI", T),
        (3, "eppe", "HTI", T + timedelta(days=1)),
        (4, "mefm_request", "PAN", T + timedelta(days=3)),
        (5, "mefm_request", "HTI", T - timedelta(days=100)),  # 2025
    ]
    with database.engine.begin() as connection:
        for code in ("HTI", "PAN"):
            connection.execute(
                text("INSERT INTO office (code, name, kind, timezone) VALUES (:c, :c, 'country', 'UTC')"), {"c": code}
            )
        for number, process in enumerate(("mefm_request", "eppe"), start=1):
            connection.execute(
                text(
                    "INSERT INTO process_version (id, process_id, version, name, files, content_hash, published_at)"
                    " VALUES (:id, :p, 1, :p, '{}', :p, :now)"
                ),
                {"id": number, "p": process, "now": T},
            )
        for instance_id, process, office, started in cases:
            connection.execute(
                text(
                    "INSERT INTO process_instance (id, process_version_id, process_id, office_code, title, status,"
                    " state, sla_breached, started_at, updated_at, revision)"
                    " VALUES (:id, :v, :p, :o, 'A case', 'running', '', false, :at, :at, 1)"
                ),
                {
                    "id": instance_id,
                    "v": 1 if process == "mefm_request" else 2,
                    "p": process,
                    "o": office,
                    "at": started,
                },
            )
    schema.upgrade(database, "0009")
    with database.engine.connect() as connection:
        given = dict(connection.execute(text("SELECT id, reference FROM process_instance")).all())
        counters = dict(connection.execute(text("SELECT prefix, last FROM reference_counter")).all())
    assert given == {
        1: "MEFM-HTI-2026-0002",
        2: "MEFM-HTI-2026-0001",
        3: "EPPE-HTI-2026-0001",
        4: "MEFM-PAN-2026-0001",
        5: "MEFM-HTI-2025-0001",
    }
    assert counters == {"MEFM-HTI-2026": 2, "EPPE-HTI-2026": 1, "MEFM-PAN-2026": 1, "MEFM-HTI-2025": 1}
    schema.upgrade(database)
    with database.unit_of_work(FixedClock(T)) as tx:
        assert references.next_reference(tx, "MEFM", "HTI", 2026) == "MEFM-HTI-2026-0003"  # goes on from there
