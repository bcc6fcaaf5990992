"""The Flask application factory: settings, the database, blueprints and CLI commands."""
from __future__ import annotations

import atexit
import logging

from flask import Flask

import config as settings
from engine.ticker import Ticker
from engine.uow import Database


def create_app(config: settings.Config | None = None, *, serving: bool = False) -> Flask:
    """`serving` is true in a web server process: then, with DOEFLOW_SCHEDULER on, the timer
    ticker runs in a background thread of this process."""
    config = config or settings.load()
    app = Flask(__name__, instance_path=str(settings.ROOT / "instance"))
    app.config.from_object(config)
    app.extensions["doeflow.db"] = Database.connect(config.DATABASE_URL)

    from . import cli, home

    app.register_blueprint(home.bp)
    cli.register(app)
    if serving and config.SCHEDULER and not app.testing:
        start_ticker(app)
    return app


def database(app: Flask) -> Database:
    return app.extensions["doeflow.db"]


def make_ticker(app: Flask) -> Ticker:
    return Ticker(database(app), lease_seconds=app.config["WORKER_LEASE_SECONDS"])


def start_ticker(app: Flask) -> Ticker:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    ticker = make_ticker(app)
    ticker.start()
    atexit.register(ticker.stop)
    app.extensions["doeflow.ticker"] = ticker
    return ticker
