"""Fixtures for the web layer: the Flask app on a test database, and its CLI runner."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import config as settings
from engine.modeling import publishing
from engine.org.users import hash_password
from engine.store.models import User
from tests.processes.conftest import FORMS, shipped_files
from tests.web.people import COM, DIRECTOR, EFP, PASSWORD, RM
from web import create_app


@pytest.fixture
def app(db):
    config = settings.load("test")
    config.DATABASE_URL = db.engine.url.render_as_string(hide_password=False)
    app = create_app(config)
    yield app
    app.extensions["doeflow.db"].engine.dispose()


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(args=list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def site(app, world):
    """The shipped diagrams published; the four people of the page tests can sign in."""
    publishing.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))
    with world.uow() as uow:
        for user in uow.session.scalars(select(User)):
            user.password_hash = hash_password(PASSWORD) if user.email in (COM, RM, EFP, DIRECTOR) else None
        uow.commit()
    app.extensions["doeflow.clock"] = world.clock
    return app
