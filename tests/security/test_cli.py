"""Issue 15, items 12 and 14: the command line and the database. Text longer than its column is
refused the same way on both databases, before anything is written; a database error never shows
the values of its statement (a password hash, form data) in a message, a traceback or a log line;
and every command on a database that is missing or not migrated says so in one line and exits 1.
The cases are the tables below, each on SQLite and PostgreSQL (docs/reliability.md 8.7).

Before: `users add --name` of 5,000 characters was stored on SQLite; on PostgreSQL it printed a
traceback whose parameters held the password hash. `bpmn publish` on a database never migrated
printed a traceback.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, func, inspect, select, text, update
from sqlalchemy.exc import DataError, IntegrityError

import config as settings
from engine.errors import Conflict, InvalidData
from engine.org import users
from engine.store import schema
from engine.store.db import normalize_url
from engine.store.models import ApiToken, Office, User
from engine.store.uow import Database
from tests.conftest import PG_URL, T0, _postgres_database
from web import create_app
from web.cli_database import UPGRADE_FIRST, DatabaseCommand

SHIPPED = Path(__file__).resolve().parents[2] / "workflows" / "bpmn"
PASSWORD = "correct horse battery staple"
SECRET_HASH = "scrypt:32768:8:1$secret-salt$" + "5ec7e7" * 10


def _users(db: Database) -> int:
    with db.unit_of_work(write=False) as tx:
        return tx.session.scalar(select(func.count()).select_from(User))


# --- item 12: text longer than its column ------------------------------------------------------------


@dataclass(frozen=True)
class TooLong:
    field: str
    limit: int
    options: dict[str, str] = field(default_factory=dict)
    email: str = "ana.perez@hti.example"
    id: str = ""


TOO_LONG = [
    TooLong("name", 200, {"--name": "N" * 5000}, id="a name of 5,000 characters"),
    TooLong("name", 200, {"--name": "é" * 201}, id="a name of 201 characters, not bytes"),
    TooLong("email", 254, email="a" * 250 + "@hti.example", id="an email of 262 characters"),
]


def _users_add(cli, case: TooLong):
    options = {"--name": "Ana Pérez", "--office": "HTI", "--roles": "Project Developer", **case.options}
    return cli("users", "add", case.email, *(part for pair in options.items() for part in pair), input=PASSWORD)


@pytest.mark.parametrize("case", TOO_LONG, ids=[c.id for c in TOO_LONG])
def test_users_add_with_text_longer_than_its_column_is_refused_in_one_clear_line(app, cli, case):
    db = app.extensions["doeflow.db"]
    before = _users(db)

    result = _users_add(cli, case)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"error: too long for the database: {case.field}",
        f"  {case.field}: Must be at most {case.limit} characters (it has {len(_value(case))}).",
    ]
    assert "Traceback" not in result.output and "scrypt" not in result.output
    assert _users(db) == before


def _value(case: TooLong) -> str:
    return case.email if case.field == "email" else case.options["--name"]


def test_a_name_of_exactly_the_column_length_is_kept_whole(app, cli):
    result = _users_add(cli, TooLong("name", 200, {"--name": "é" * 200}))

    assert result.exit_code == 0, result.output
    with app.extensions["doeflow.db"].unit_of_work(write=False) as tx:
        assert tx.session.scalar(select(User.name).where(User.email == "ana.perez@hti.example")) == "é" * 200


def test_a_row_changed_past_its_column_is_refused_before_anything_is_written(world):
    with pytest.raises(InvalidData) as refused, world.uow() as tx:
        office, user = tx.session.get(Office, "HTI"), tx.session.get(User, world.user("project-developer@hti.demo"))
        office.name, user.timezone = "Haiti " * 40, "America/Port-au-Prince" * 3
        tx.commit()

    assert refused.value.fields == {
        "name": "Must be at most 200 characters (it has 240).",
        "timezone": "Must be at most 64 characters (it has 66).",
    }
    with world.db.unit_of_work(write=False) as tx:
        assert tx.session.get(Office, "HTI").name != "Haiti " * 40


def test_a_row_stored_too_long_before_can_still_be_changed_in_its_other_fields(world):
    """SQLite kept such text whole before the check: the row is not locked out of every later change."""
    user_id = world.user("project-developer@hti.demo")
    if world.db.dialect == "postgresql":  # PostgreSQL never stored one; make the column wider for this row
        with world.db.engine.begin() as connection:
            connection.execute(text("ALTER TABLE app_user ALTER COLUMN name TYPE varchar(5000)"))
    try:
        with world.db.engine.begin() as connection:
            connection.execute(update(User).where(User.id == user_id).values(name="N" * 5000))

        users.set_language(world.uow(), user_id, "es")

        with world.db.unit_of_work(write=False) as tx:
            assert (tx.session.get(User, user_id).language, len(tx.session.get(User, user_id).name)) == ("es", 5000)
    finally:
        with world.db.engine.begin() as connection:
            connection.execute(update(User).where(User.id == user_id).values(name="Project Developer"))
            if world.db.dialect == "postgresql":
                connection.execute(text("ALTER TABLE app_user ALTER COLUMN name TYPE varchar(200)"))


# --- item 12: no statement values in errors, tracebacks or logs ---------------------------------------


def _clash_with_a_secret(world) -> IntegrityError:
    """A user whose email is taken, inserted with a password hash: the database refuses the row."""
    with pytest.raises(IntegrityError) as clash, world.uow() as tx:
        tx.session.add(User(email="project-developer@hti.demo", name="Ana", password_hash=SECRET_HASH, created_at=T0))
        tx.session.flush()
    return clash.value


def test_a_database_error_never_shows_the_values_of_its_statement(world):
    error = _clash_with_a_secret(world)

    shown = "".join(traceback.format_exception(error))
    assert "INSERT INTO app_user" in shown  # the statement is still there to read
    assert SECRET_HASH not in shown and "secret-salt" not in shown
    assert "[SQL parameters hidden due to hide_parameters=True]" in str(error)


def test_the_engine_log_never_holds_the_values_of_a_statement(world, caplog):
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")

    _clash_with_a_secret(world)

    assert "INSERT INTO app_user" in caplog.text
    assert "secret-salt" not in caplog.text


def test_a_database_error_in_any_command_is_one_line_without_its_values(cli, monkeypatch):
    refusal = Exception("value too long for type character varying(64)\nDETAIL: Key (token_hash)=(secret-salt)")

    def refuse(*_args, **_kwargs):
        raise DataError("INSERT INTO api_token ...", {"token_hash": SECRET_HASH}, refusal)

    monkeypatch.setattr(users, "issue_token", refuse)

    result = cli("users", "token", "project-developer@hti.demo")

    assert result.exit_code == 1
    assert result.stderr == "error: the database refused the command: value too long for type character varying(64)\n"
    assert "secret-salt" not in result.output


# --- item 14: a database missing or not migrated ------------------------------------------------------


@dataclass(frozen=True)
class Command:
    args: tuple[str, ...]
    input: str | None = None


COMMANDS = [
    Command(("bpmn", "publish", str(SHIPPED / "mefm_request.bpmn"))),
    Command(
        ("users", "add", "ana.perez@hti.example", "--name", "Ana", "--office", "HTI", "--roles", "Project Developer"),
        PASSWORD,
    ),
    Command(("users", "token", "project-developer@hti.demo")),
    Command(("demo", "load")),
    Command(("demo", "instances")),
    Command(("timers", "tick")),
    Command(("mail", "flush")),
]


@dataclass(frozen=True)
class Unready:
    backend: str
    state: str  # "empty" (never migrated), "older" (only the first migration), "missing"
    says: str

    @property
    def id(self) -> str:
        return f"{self.backend}-{self.state}"


NOT_MIGRATED = f"is not migrated to this version: {UPGRADE_FIRST}"
UNREADY = [
    Unready(backend, state, NOT_MIGRATED if state != "missing" else "error: cannot connect to the database")
    for backend in ("sqlite", "postgresql")
    for state in ("empty", "older", "missing")
]


@pytest.fixture
def unready(request, tmp_path):
    """(case, URL) of a database in the case's state; PostgreSQL's is dropped after the test."""
    case: Unready = request.param
    cleanup = None
    if case.backend == "sqlite":
        folder = tmp_path / ("no such folder" if case.state == "missing" else "")
        url = f"sqlite:///{folder / 'doeflow.sqlite3'}"
    elif case.state == "missing":
        admin = create_engine(normalize_url(PG_URL))
        url = admin.url.set(database=f"doeflow_missing_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
        admin.dispose()
    else:
        try:
            url, cleanup = _postgres_database()
        except Exception as error:  # noqa: BLE001 - as tests/conftest.py: no server, no PostgreSQL half
            pytest.skip(f"PostgreSQL is not reachable at {PG_URL}: {error}")
    if case.state == "older":
        database = Database.connect(url)
        schema.upgrade(database, "0001")
        database.engine.dispose()
    yield case, url
    if cleanup:
        cleanup()


def _runner_for(url: str):
    config = settings.load("test")
    config.DATABASE_URL = url
    app = create_app(config)
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app.cli, list(args), input=input, obj=ScriptInfo(create_app=lambda: app))

    return app, invoke


def _tables(url: str) -> list[str] | None:
    """The tables of the database, or None when it cannot be reached."""
    engine = create_engine(normalize_url(url))
    try:
        return sorted(inspect(engine).get_table_names())
    except Exception:  # noqa: BLE001 - any failure to connect means the same here
        return None
    finally:
        engine.dispose()


@pytest.mark.parametrize("unready", UNREADY, ids=[c.id for c in UNREADY], indirect=True)
def test_every_command_on_a_database_missing_or_not_migrated_says_so_in_one_line(unready):
    case, url = unready
    app, cli = _runner_for(url)
    tables = _tables(url) if case.state != "missing" else None

    for command in COMMANDS:
        result = cli(*command.args, input=command.input)

        assert result.exception is None or isinstance(result.exception, SystemExit), (command, result.exc_info)
        assert result.exit_code == 1, (command, result.output)
        assert len(result.stderr.splitlines()) == 1 and case.says in result.stderr, (command, result.stderr)
        assert result.stdout == "" and "Traceback" not in result.output, (command, result.output)
    if case.state == "missing":
        assert not (case.backend == "sqlite" and Path(url.removeprefix("sqlite:///")).parent.exists())
        assert _tables(url) is None
    else:
        assert _tables(url) == tables  # nothing was created half-way
    app.extensions["doeflow.db"].engine.dispose()


@pytest.mark.parametrize("unready", UNREADY, ids=[c.id for c in UNREADY], indirect=True)
def test_db_upgrade_makes_the_commands_work_or_says_it_cannot_connect(unready):
    case, url = unready
    app, cli = _runner_for(url)

    upgraded = cli("db", "upgrade")

    if case.state == "missing":
        assert upgraded.exit_code == 1 and upgraded.stderr.startswith("error: cannot connect to the database")
        assert len(upgraded.stderr.splitlines()) == 1 and "Traceback" not in upgraded.output
    else:
        assert upgraded.exit_code == 0, upgraded.output
        published = cli("bpmn", "publish", str(SHIPPED / "mefm_request.bpmn"))
        assert published.exit_code == 0 and "mefm_request version 1 (new)" in published.stdout, published.output
    app.extensions["doeflow.db"].engine.dispose()


def test_bpmn_validate_needs_no_database(tmp_path):
    app, cli = _runner_for(f"sqlite:///{tmp_path / 'no such folder' / 'doeflow.sqlite3'}")

    result = cli("bpmn", "validate", str(SHIPPED / "mefm_request.bpmn"))

    assert result.exit_code == 0 and result.stdout.endswith("2 file(s) valid\n"), result.output


def _commands(group) -> list:
    found = []
    for command in group.commands.values():
        found += _commands(command) if hasattr(command, "commands") else [command]
    return found


def test_every_command_goes_through_the_one_database_check(app):
    ours = [c for c in _commands(app.cli) if c.name not in ("run", "shell", "routes")]

    assert {c.name for c in ours} >= {"upgrade", "load", "instances", "add", "token", "validate", "publish", "worker"}
    assert [c.name for c in ours if not isinstance(c, DatabaseCommand)] == []
    assert sorted(c.name for c in ours if not c.needs_schema) == ["upgrade", "validate"]


def test_a_clash_at_commit_names_the_constraint_not_the_values(world):
    with world.uow() as tx:
        user_id = world.user("project-developer@hti.demo")
        tx.session.add_all(ApiToken(user_id=user_id, token_hash="secret-salt", created_at=T0) for _ in range(2))
        with pytest.raises(Conflict) as clash:
            tx.commit()

    assert "the change clashes with one made at the same time" in str(clash.value)
    assert "token_hash" in str(clash.value) and "secret-salt" not in str(clash.value)
