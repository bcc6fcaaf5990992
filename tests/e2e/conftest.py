"""Fixtures for the end-to-end tests: a live server on the test database, Chromium, pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import config as settings
from engine.modeling import publishing
from engine.org.users import hash_password
from engine.store.models import User
from tests.e2e.browser import LAUNCH_ARGS, LiveServer, require_chromium
from tests.processes.conftest import FORMS, shipped_files
from web import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def live(db, world):
    """The app with the shipped processes published, on a live server; demo users have PASSWORD."""
    publishing.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))
    hashed = hash_password(PASSWORD)
    with world.uow() as uow:
        for user in uow.session.scalars(select(User)):
            user.password_hash = hashed
        uow.commit()
    config = settings.load("test")
    config.DATABASE_URL = db.engine.url.render_as_string(hide_password=False)
    app = create_app(config)
    app.extensions["doeflow.clock"] = world.clock
    with LiveServer(app) as server:
        yield server
    app.extensions["doeflow.db"].engine.dispose()


@pytest.fixture
def open_page(browser, live):
    """`open_page(javascript=True)`: a fresh browser context (its own cookies) on the live server."""
    contexts = []

    def new(javascript: bool = True, locale: str = "en-GB"):
        context = browser.new_context(base_url=live.url, java_script_enabled=javascript, locale=locale)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new
    for context in contexts:
        context.close()


@pytest.fixture
def sqlite_live_page(browser, sqlite_db):
    """A page of the app (on SQLite) with the bpmn-js viewer script loaded, for checks of diagrams."""
    config = settings.load("test")
    config.DATABASE_URL = sqlite_db.engine.url.render_as_string(hide_password=False)
    app = create_app(config)
    with LiveServer(app) as server:
        context = browser.new_context(base_url=server.url)
        page = context.new_page()
        page.goto("/login")
        page.add_script_tag(url="/vendor/bpmn-js/bpmn-navigated-viewer.production.min.js")
        yield page
        context.close()
    app.extensions["doeflow.db"].engine.dispose()
