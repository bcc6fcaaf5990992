"""Backup and restore, end to end on PostgreSQL: a database with running instances, pending timers
and outbox rows is dumped by scripts/backup.sh and dropped; scripts/restore.sh puts it into a new
database that holds the same rows and works: a task completes, timers fire and the mail goes out."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, make_url, select, text

from engine.clock import FixedClock
from engine.modeling import publishing
from engine.notifications import outbox
from engine.notifications.outbox import MailSettings
from engine.org import demo as demo_org
from engine.scheduling import ticker
from engine.store import schema
from engine.store.db import Base
from engine.store.models import AuditEvent, HumanTask, OutboxEmail, Timer, User
from engine.store.uow import Database
from engine.work import instances, tasks
from tests.ci import in_ci
from tests.conftest import _postgres_database
from tests.processes.conftest import FORMS, shipped_files
from tests.processes.scenarios import HAITI_HURRICANE

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "tests" / "engine" / "diagrams" / "wait_with_reminder.bpmn"
WAITING = 6  # instances of wait_with_reminder, each with a pending one-minute reminder
DRAFTER = "project-developer@hti.demo"


def new_database():
    try:
        return _postgres_database()
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same here
        if in_ci():
            pytest.fail(f"PostgreSQL is not reachable: {error}")
        pytest.skip(f"PostgreSQL is not reachable: {error}")


@pytest.fixture
def databases():
    """Creates throwaway databases on demand; drops whatever is left of them at the end."""
    cleanups = []

    def create() -> str:
        url, cleanup = new_database()
        cleanups.append(cleanup)
        return url

    yield create
    for cleanup in reversed(cleanups):
        cleanup()


def fill(database: Database) -> None:
    schema.upgrade(database)
    demo_org.load_demo(database.unit_of_work(), "backup-test-password")
    published = {DIAGRAM.name: DIAGRAM.read_bytes(), **shipped_files()}
    publishing.publish(database.unit_of_work(), published, forms_dir=str(FORMS))
    with database.unit_of_work(write=False) as uow:
        ids = {email: id_ for email, id_ in uow.session.execute(select(User.email, User.id))}
    for _ in range(WAITING):
        instances.start_instance(database.unit_of_work(), ids[DRAFTER], "wait_with_reminder", "HTI")
    mefm = HAITI_HURRICANE["mefm"]
    instances.start_instance(
        database.unit_of_work(), ids["chief-of-mission@hti.demo"], "mefm_request", "HTI", mefm["mefm_request_start"]
    )


def snapshot(database: Database) -> dict[str, list[dict]]:
    """Every row of every table, ordered by primary key."""
    rows = {}
    with database.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows[table.name] = [dict(row._mapping) for row in connection.execute(select(table).order_by(*order))]
    return rows


def run(script: str, *args: str, url: str) -> str:
    env = {**os.environ, "DOEFLOW_DATABASE_URL": url}
    done = subprocess.run(["bash", script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_backup_restored_into_a_new_database_holds_the_same_rows_and_runs(databases, tmp_path):
    original_url = databases()
    original = Database.connect(original_url)
    fill(original)
    before = snapshot(original)
    assert len(before["timer"]) == WAITING and len(before["outbox_email"]) >= WAITING
    assert {row["state"] for row in before["timer"]} == {"pending"}
    original.engine.dispose()

    dump = tmp_path / "backups" / "doeflow.dump"
    assert "backup written" in run("scripts/backup.sh", str(dump), url=original_url)
    assert dump.stat().st_size > 0 and not dump.with_suffix(".dump.partial").exists()
    # The original is gone for good: the restore must not lean on it.
    assert _drop(original_url)

    restored_url = databases()
    assert "restored" in run("scripts/restore.sh", str(dump), restored_url, url="")
    restored = Database.connect(restored_url)
    try:
        after = snapshot(restored)
        assert after.keys() == before.keys()
        for name in before:
            assert after[name] == before[name], f"table {name} differs after the restore"
        schema.upgrade(restored)  # already at the newest migration: nothing to do

        # It works: a task completes (new rows take fresh ids from the restored sequences) ...
        with restored.unit_of_work(write=False) as uow:
            drafter = uow.session.scalar(select(User.id).where(User.email == DRAFTER))
        inbox = [t for t in tasks.inbox(restored.unit_of_work(), drafter) if t.process_id == "wait_with_reminder"]
        assert len(inbox) == WAITING
        done = tasks.complete_task(restored.unit_of_work(), drafter, inbox[0].id, {})
        assert done.status == "completed"
        # ... the reminders of the others fire once due ...
        later = FixedClock(datetime.now(timezone.utc) + timedelta(minutes=2))
        result = ticker.tick(restored, later)
        assert (result.fired, result.failed) == (WAITING - 1, 0)
        # ... and the outbox (restored rows and new ones) goes out.
        settings = MailSettings(
            host=None,
            port=25,
            user=None,
            password=None,
            starttls=False,
            sender="doeflow@test.example",
            base_url="https://doeflow.test",
            dev_folder=str(tmp_path / "mail"),
        )
        outbox.flush(restored, later, settings, owner="backup-test")
        with restored.unit_of_work(write=False) as uow:
            s = uow.session
            fired = s.scalar(select(func.count()).select_from(Timer).where(Timer.state == "fired"))
            completed = s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.state == "completed"))
            events = s.scalar(select(func.max(AuditEvent.id)))
            pending_mail = s.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == "pending"))
        assert fired == WAITING - 1 and completed == 1
        assert events > max(row["id"] for row in before["audit_event"])
        assert pending_mail == 0 and len(list((tmp_path / "mail").glob("*.eml"))) >= WAITING
    finally:
        restored.engine.dispose()


def _drop(url: str) -> bool:
    """Drops the database of `url` (its cleanup at the end then finds nothing to drop)."""
    name = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            return connection.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}) == 0
    finally:
        admin.dispose()
