"""Fixtures for the web layer: the Flask app on a test database, and its CLI runner."""

from __future__ import annotations

import pytest

import config as settings
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
