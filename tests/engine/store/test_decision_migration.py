"""Migration 0011 records the cases completed before it as decided when they completed (breached
if an escalation had fired), and none that still runs or was cancelled; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, text

from engine.store import schema
from engine.store.models import CaseDecision

T = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def test_the_cases_completed_before_count_as_decided_when_they_completed(database_at):
    database = database_at("0010")
    cases = [  # (id, status, breached, hours to completion)
        (1, "completed", False, 30),
        (2, "completed", True, 70),
        (3, "running", True, None),
        (4, "cancelled", False, 5),
    ]
    with database.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO office (code, name, kind, timezone) VALUES ('HTI', 'Haiti', 'country', 'UTC')")
        )
        connection.execute(
            text(
                "INSERT INTO process_version (id, process_id, version, name, files, content_hash, published_at)"
                " VALUES (1, 'mefm_request', 1, 'MEFM', '{}', 'h', :now)"
            ),
            {"now": T},
        )
        for instance_id, status, breached, hours in cases:
            connection.execute(
                text(
                    "INSERT INTO process_instance (id, process_version_id, process_id, office_code, title, status,"
                    " state, sla_breached, started_at, updated_at, completed_at, revision)"
                    " VALUES (:id, 1, 'mefm_request', 'HTI', 'A case', :status, '', :breached, :at, :at, :done, 1)"
                ),
                {
                    "id": instance_id,
                    "status": status,
                    "breached": breached,
                    "at": T,
                    "done": T + timedelta(hours=hours) if hours else None,
                },
            )
    schema.upgrade(database, "0011")
    with database.unit_of_work(write=False) as uow:
        found = {d.instance_id: (d.decided_at, d.hours, d.breached) for d in uow.session.scalars(select(CaseDecision))}
    assert found == {1: (T + timedelta(hours=30), 30.0, False), 2: (T + timedelta(hours=70), 70.0, True)}
