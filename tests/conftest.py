"""Shared fixtures: the databases (SQLite and PostgreSQL), a clock, the demo organisation.

PostgreSQL comes from DOEFLOW_TEST_DATABASE_URL (default: the server on 127.0.0.1:5432). Each test
session creates its own database there and drops it at the end. Outside CI a missing server skips
the PostgreSQL half; with CI=true it fails.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, delete, select, text

from engine.clock import FixedClock
from engine.notifications import outbox
from engine.notifications.outbox import MailSettings
from engine.org import demo as demo_org
from engine.org import offices as org
from engine.store import schema
from engine.store.db import Base, normalize_url
from engine.store.models import User
from engine.store.uow import Database
from tests.ci import in_ci
from tests.smtp import smtp_server  # noqa: F401 - a fixture for every test folder

PG_URL = os.environ.get("DOEFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


def _postgres_database():
    """Create a throwaway database on the test server; returns (url, cleanup) or raises."""
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    name = f"doeflow_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)

    def cleanup():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, cleanup


@pytest.fixture(scope="session")
def postgresql_url():
    try:
        url, cleanup = _postgres_database()
    except Exception as error:  # noqa: BLE001 - any failure to reach the server means the same here
        message = f"PostgreSQL is not reachable at {PG_URL}: {error}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    yield url
    cleanup()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'doeflow.sqlite3'}"


_migrated: dict[str, Database] = {}


def _migrated_database(url: str) -> Database:
    if url not in _migrated:
        database = Database.connect(url)
        schema.upgrade(database)
        _migrated[url] = database
    return _migrated[url]


def _reset(database: Database) -> None:
    """Empty every table, then put the catalogue and the demo users (without passwords) back."""
    with database.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    with database.unit_of_work(FixedClock(T0)) as uow:
        org.ensure_catalogue(uow.session)
        for demo in demo_org.demo_users():
            user = User(email=demo.email, name=demo.name, created_at=T0, timezone="UTC")
            uow.session.add(user)
            org.add_membership(uow.session, user, demo.role, demo.office)
        uow.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request) -> Database:
    """A migrated, emptied database holding the catalogue and demo users; both backends."""
    url = request.getfixturevalue(f"{request.param}_url")
    database = _migrated_database(url)
    _reset(database)
    return database


@pytest.fixture
def sqlite_db(sqlite_url) -> Database:
    database = _migrated_database(sqlite_url)
    _reset(database)
    return database


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


class World:
    """The database, the clock and the demo users, as a test needs them."""

    def __init__(self, database: Database, clock: FixedClock):
        self.db = database
        self.clock = clock
        with database.unit_of_work(clock, write=False) as uow:
            self._ids = {email: id_ for email, id_ in uow.session.execute(select(User.email, User.id))}

    def uow(self):
        return self.db.unit_of_work(self.clock)

    def user(self, email: str) -> int:
        if email not in self._ids:
            with self.db.unit_of_work(self.clock, write=False) as uow:
                self._ids[email] = uow.session.scalar(select(User.id).where(User.email == email))
        return self._ids[email]


@pytest.fixture
def world(db, clock) -> World:
    return World(db, clock)


@pytest.fixture
def mailbox(world, smtp_server):  # noqa: F811 - the fixture imported from tests.smtp
    """Sends the outbox at the world's clock to a real SMTP server; each call returns the sorted
    (recipient, subject before the colon) pairs received since the previous call."""
    settings = MailSettings(
        host="127.0.0.1",
        port=smtp_server.port,
        user=None,
        password=None,
        starttls=False,
        sender="doeflow@test.example",
        base_url="https://doeflow.test",
    )
    seen = 0

    def new_mail() -> list[tuple[str, str]]:
        nonlocal seen
        outbox.flush(world.db, world.clock, settings, owner="test")
        received = smtp_server.received[seen:]
        seen = len(smtp_server.received)
        return sorted((r.to, r.subject.split(":")[0]) for r in received)

    return new_mail


def _measures():
    """What the run sums up at its end: the flow coverage of the shipped diagrams and the MIWG verdicts."""
    from tests.conformance import conftest as miwg
    from tests.processes import conftest as processes

    return processes, miwg


def pytest_sessionfinish(session, exitstatus):
    for database in _migrated.values():
        database.engine.dispose()
    processes, miwg = _measures()
    output = getattr(session.config, "workeroutput", None)
    if output is not None:  # a pytest-xdist worker: the controller sums the workers' shares up
        output["flow_coverage"] = processes.worker_output(session)
        output["miwg"] = miwg.RESULTS
        return
    processes.finish(session, exitstatus)
    miwg.finish()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """A pytest-xdist worker ended: take its share of the measures."""
    processes, miwg = _measures()
    output = getattr(node, "workeroutput", {})
    processes.merge(output.get("flow_coverage"))
    miwg.merge(output.get("miwg"))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    processes, miwg = _measures()
    processes.summary(terminalreporter)
    miwg.summary(terminalreporter)
