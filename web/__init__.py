"""The Flask application factory: settings, the database, blueprints and CLI commands."""
from __future__ import annotations

from flask import Flask

import config as settings
from engine.uow import Database


def create_app(config: settings.Config | None = None) -> Flask:
    config = config or settings.load()
    app = Flask(__name__, instance_path=str(settings.ROOT / "instance"))
    app.config.from_object(config)
    app.extensions["doeflow.db"] = Database.connect(config.DATABASE_URL)

    from . import cli, home

    app.register_blueprint(home.bp)
    cli.register(app)
    return app


def database(app: Flask) -> Database:
    return app.extensions["doeflow.db"]
