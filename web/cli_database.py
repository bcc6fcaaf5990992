"""The database as every `flask --app wsgi` command meets it: one clear line and exit 1 when it cannot
be reached, is not migrated, or refuses a statement; never a traceback, whose text would carry the
statement and what it was given. Each command group of web/cli.py makes its commands of this class."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup, ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from engine.store import schema
from engine.store.uow import Database

UPGRADE_FIRST = "run `flask --app wsgi db upgrade` first"


class DatabaseCommand(click.Command):
    """A command that needs the schema (the default) checks first that it is at the latest migration,
    so that a database never migrated fails here and not half-way (a worker would log it forever)."""

    def __init__(self, *args, needs_schema: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_schema = needs_schema

    def invoke(self, ctx: click.Context):
        database: Database = ctx.ensure_object(ScriptInfo).load_app().extensions["doeflow.db"]
        try:
            if self.needs_schema and not schema.is_current(database):
                _fail(f"error: the database {_url(database)} is not migrated to this version: {UPGRADE_FIRST}")
            return super().invoke(ctx)
        except SQLAlchemyError as error:
            _fail(describe(database, error))


class DatabaseGroup(AppGroup):
    command_class = DatabaseCommand


def describe(database: Database, error: SQLAlchemyError) -> str:
    """One line for a database error: why, with the driver's own first line and no values."""
    try:
        with database.engine.connect():
            pass
    except SQLAlchemyError as unreachable:
        return f"error: cannot connect to the database {_url(database)}: {_first_line(unreachable)}"
    try:
        current = schema.is_current(database)
    except SQLAlchemyError:
        current = False
    if not current:
        return f"error: the database {_url(database)} is not migrated to this version: {UPGRADE_FIRST}"
    return f"error: the database refused the command: {_first_line(error)}"


def _first_line(error: SQLAlchemyError) -> str:
    # The driver's message (psycopg's DETAIL lines, which quote values, come after the first line).
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=True)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)
