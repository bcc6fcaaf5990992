"""`flask --app wsgi ...` commands (DESIGN section 5). Each translates arguments into one engine call."""

from __future__ import annotations

import glob
import os
import signal
import sys
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import inspect

from engine.bpmn import loading as bpmn
from engine.bpmn import references
from engine.clock import SYSTEM_CLOCK, TravelledClock
from engine.definitions import versions as definitions
from engine.errors import EngineError, InvalidData, InvalidDiagram
from engine.modeling import publishing
from engine.notifications import outbox
from engine.org import demo as demo_org
from engine.org import offices as org
from engine.org import users
from engine.scheduling import ticker
from engine.store import schema

from . import database
from .cli_database import DatabaseCommand, DatabaseGroup

DEMO_PASSWORD_ENV = "DOEFLOW_DEMO_PASSWORD"
DEFAULT_DEMO_PASSWORD = "doeflow-demo"


def demo_password() -> str:
    return os.environ.get(DEMO_PASSWORD_ENV) or DEFAULT_DEMO_PASSWORD


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


def register(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(users_group)
    app.cli.add_command(bpmn_group)
    app.cli.add_command(timers_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(mail_group)


@click.group("db", cls=DatabaseGroup, help="The database schema.")
def db_group() -> None:
    pass


@db_group.command(
    "upgrade", needs_schema=False, help="Create or migrate the schema, and add the catalogue's roles and offices."
)
def db_upgrade() -> None:
    db = database(current_app)
    schema.upgrade(db)
    with db.unit_of_work() as uow:
        org.ensure_catalogue(uow.session)
        uow.commit()
    click.echo(f"database is up to date ({db.engine.url.render_as_string(hide_password=True)})")


@click.group("demo", cls=DatabaseGroup, help="Demo data.")
def demo_group() -> None:
    pass


@demo_group.command("load", help="The offices, roles and demo users of DESIGN section 7 (idempotent).")
def demo_load() -> None:
    if not current_app.config.get("DEMO"):
        _fail("demo users are not loaded in production mode (DOEFLOW_ENV=production)")
    created = demo_org.load_demo(database(current_app).unit_of_work(), demo_password())
    click.echo(f"demo data loaded: {created} new users")


@demo_group.command(
    "instances", help="Start the demo scenarios (workflows/demo/instances.json) in a database with none."
)
def demo_instances() -> None:
    if not current_app.config.get("DEMO"):
        _fail("demo instances are not loaded in production mode (DOEFLOW_ENV=production)")
    from engine.work import demo

    loaded = demo.load_instances(database(current_app), SYSTEM_CLOCK)
    if not loaded:
        click.echo("demo instances: the database already holds instances, none added")
    for entry in loaded:
        click.echo(f"demo instance {entry.instance_id}: {entry.name} (now: {', '.join(entry.waiting_at) or 'done'})")


@click.group("users", cls=DatabaseGroup, help="Users and API tokens.")
def users_group() -> None:
    pass


@users_group.command("add", help="Add a user; the password is read from standard input.")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--office", required=True, help="office code, e.g. HTI")
@click.option("--roles", required=True, help="comma-separated role names held in that office")
@click.option("--language", default="en", type=click.Choice(["en", "es"]))
def users_add(email: str, name: str, office: str, roles: str, language: str) -> None:
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    role_list = [r.strip() for r in roles.split(",") if r.strip()]
    try:
        user_id = users.add_user(
            database(current_app).unit_of_work(),
            email,
            name=name,
            office=office,
            roles=role_list,
            password=password or None,
            language=language,
        )
    except InvalidData as error:
        _fail(f"error: {error}" + "".join(f"\n  {k}: {v}" for k, v in error.fields.items()))
    except EngineError as error:
        _fail(f"error: {error}")
    click.echo(f"user {email} added (id {user_id})")


@users_group.command("token", help="Print a new API token for the user (shown once).")
@click.argument("email")
def users_token(email: str) -> None:
    try:
        click.echo(users.issue_token(database(current_app).unit_of_work(), email))
    except EngineError as error:
        _fail(f"error: {error}")


@click.group("bpmn", cls=DatabaseGroup, help="Diagrams: validate and publish.")
def bpmn_group() -> None:
    pass


def _expand(paths: tuple[str, ...]) -> list[str]:
    found: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found += sorted(glob.glob(os.path.join(path, "*.bpmn")) + glob.glob(os.path.join(path, "*.dmn")))
        else:
            found.append(path)
    missing = [p for p in found if not os.path.isfile(p)]
    if missing:
        _fail("\n".join(f"{p}:0: -: no such file" for p in missing))
    return found


def _with_files_beside(files: list[str], *, called_processes: bool) -> list[str]:
    beside = references.files_beside(files, called_processes=called_processes)
    for path in beside:
        click.echo(f"{path}: used by the diagrams given, taken from beside them")
    return files + beside


def _known_roles() -> set[str]:
    db = database(current_app)
    try:
        if inspect(db.engine).has_table("role"):
            with db.unit_of_work(write=False) as uow:
                return org.known_roles(uow.session) or set(org.ROLES)
    except Exception:  # no reachable database: validate against the catalogue
        pass
    return set(org.ROLES)


@bpmn_group.command(
    "validate",
    needs_schema=False,
    help="Parse and check diagrams, with the DMN tables and called diagrams beside them that they use; "
    "exit 1 with file:line: element: message if any is wrong.",
)
@click.argument("paths", nargs=-1, required=True)
def bpmn_validate(paths: tuple[str, ...]) -> None:
    files = _with_files_beside(_expand(paths), called_processes=True)
    problems = bpmn.validate_paths(files, known_roles=_known_roles())
    for problem in problems:
        prefix = "" if problem.severity == "error" else "warning: "
        click.echo(
            f"{problem.file}:{problem.line or 0}: {problem.element or '-'}: {prefix}{problem.message}",
            err=problem.severity == "error",
        )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        _fail(f"{len(errors)} error(s) in {len({p.file for p in errors})} file(s)")
    click.echo(f"{len(files)} file(s) valid")


@bpmn_group.command(
    "publish",
    help="Validate and publish diagrams, with the DMN tables beside them that they use (called processes come "
    "from their latest published version); prints each process id and version.",
)
@click.argument("paths", nargs=-1, required=True)
def bpmn_publish(paths: tuple[str, ...]) -> None:
    files = definitions.read_paths(_with_files_beside(_expand(paths), called_processes=False))
    try:
        published = publishing.publish(
            database(current_app).unit_of_work(), files, forms_dir=current_app.config["FORMS_DIR"]
        )
    except InvalidDiagram as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        _fail("nothing was published")
    except EngineError as error:
        _fail(f"error: {error}")
    for item in published:
        click.echo(f"{item.process_id} version {item.version} ({'new' if item.created else 'unchanged'})")


@click.group("timers", cls=DatabaseGroup, help="SLA timers.")
def timers_group() -> None:
    pass


@timers_group.command("tick", help="Fire the timers due now (or at --at, with DOEFLOW_ALLOW_TIME_TRAVEL=1).")
@click.option("--at", "at", help="an ISO 8601 instant with a time zone, e.g. 2026-11-27T12:00:00Z")
def timers_tick(at: str | None) -> None:
    clock = SYSTEM_CLOCK
    if at is not None:
        if not current_app.config.get("ALLOW_TIME_TRAVEL"):
            _fail("timers tick --at is refused unless DOEFLOW_ALLOW_TIME_TRAVEL=1")
        try:
            instant = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            _fail(f"--at {at!r} is not an ISO 8601 instant")
        if instant.tzinfo is None:
            _fail(f"--at {at!r} has no time zone: write Z or an offset such as -05:00")
        clock = TravelledClock(instant)  # the emails the timers cause are due now, for `mail flush`
    result = ticker.tick(database(current_app), clock)
    click.echo(
        f"{result.fired} timer(s) fired at {clock.now().isoformat()}"
        + (f", {result.failed} failed (see the timer table)" if result.failed else "")
    )


@click.command("worker", cls=DatabaseCommand, help="Run the timers and the outbox in the foreground (Ctrl-C stops).")
@with_appcontext
def worker_command() -> None:
    from . import configure_logging, make_ticker

    configure_logging()
    click.echo("doeflow worker: firing timers and sending mail; Ctrl-C or SIGTERM stops")

    def terminate(signum, frame):  # systemd, docker and kill send SIGTERM: stop as Ctrl-C does
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, terminate)
    ticker_ = make_ticker(current_app)
    try:
        ticker_.start(blocking=True)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        ticker_.stop()  # waits for the timer or email in hand; a claim cut short is retaken after its lease
    click.echo("doeflow worker stopped")


@click.group("mail", cls=DatabaseGroup, help="The email outbox.")
def mail_group() -> None:
    pass


@mail_group.command("flush", help="Send what the outbox holds now (retries that are due included).")
def mail_flush() -> None:
    settings = outbox.MailSettings.from_config(current_app.config)
    result = outbox.flush(
        database(current_app),
        SYSTEM_CLOCK,
        settings,
        owner=ticker.worker_name(),
        lease_seconds=int(current_app.config["WORKER_LEASE_SECONDS"]),
    )
    click.echo(
        f"{result.sent} sent, {result.retried} to retry later, {result.dead} dead"
        + (
            ""
            if settings.host
            else f" (no DOEFLOW_SMTP_HOST: written as .eml files to {settings.dev_folder or outbox.DEV_FOLDER})"
        )
    )
    if result.dead:
        sys.exit(1)
