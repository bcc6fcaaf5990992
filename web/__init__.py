"""The Flask application factory: settings, the database, blueprints and CLI commands."""

from __future__ import annotations

import atexit
import logging

from flask import Flask
from flask_wtf.csrf import CSRFProtect

import config as settings
from engine.bpmn import budget, data_size
from engine.clock import SYSTEM_CLOCK
from engine.notifications import outbox
from engine.scheduling.ticker import Ticker
from engine.store.uow import Database

from . import jsonbody

csrf = CSRFProtect()


def create_app(config: settings.Config | None = None, *, serving: bool = False) -> Flask:
    """`serving` is true in a web server process: then, with DOEFLOW_SCHEDULER on, the timer
    ticker runs in a background thread of this process."""
    config = config or settings.load()
    app = Flask(__name__, instance_path=str(settings.ROOT / "instance"))
    app.config.from_object(config)
    app.json = jsonbody.StrictJSONProvider(app)  # request.get_json() refuses NaN and Infinity
    budget.configure(budget.StepBudget(tasks=config.STEP_MAX_TASKS, seconds=config.STEP_MAX_SECONDS))
    data_size.configure(config.MAX_INSTANCE_DATA_BYTES)
    app.extensions["doeflow.db"] = Database.connect(config.DATABASE_URL)

    from . import (
        api,
        api_attachments,  # noqa: F401 - its routes join the API's blueprint
        api_case,  # noqa: F401 - its routes join the API's blueprint
        api_cases,  # noqa: F401 - its routes join the API's blueprint
        api_emergencies,  # noqa: F401 - its routes join the API's blueprint
        api_reports,  # noqa: F401 - its routes join the API's blueprint
        attachment_pages,
        auth,
        case_pages,
        cases,
        cli,
        downloads,
        emergency_pages,
        errors,
        expired_forms,
        home,
        i18n,
        inbox,
        instance_pages,
        modeler,
        reports,
        security,
        start_pages,
        task_pages,
        ui,
    )

    app.request_class = downloads.Request  # the upload routes take a larger body
    csrf.init_app(app)
    auth.login_manager.init_app(app)
    i18n.init_app(app)
    ui.register(app)
    errors.init_app(app)
    expired_forms.init_app(app)
    blueprints = (home.bp, auth.bp, inbox.bp, task_pages.bp, start_pages.bp, instance_pages.bp, modeler.bp)
    blueprints += (attachment_pages.bp, case_pages.bp, cases.bp)
    blueprints += (emergency_pages.bp,)
    blueprints += (reports.bp,)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    # The API authenticates with bearer tokens, never with the session cookie: no CSRF token there.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)
    security.init_app(app)
    cli.register(app)
    if serving and config.SCHEDULER and not app.testing:
        start_ticker(app)
    return app


def database(app: Flask) -> Database:
    return app.extensions["doeflow.db"]


def make_ticker(app: Flask) -> Ticker:
    """Timers and the outbox, as the web process (DOEFLOW_SCHEDULER) or `worker` runs them."""
    db, lease = database(app), app.config["WORKER_LEASE_SECONDS"]
    mail_settings = outbox.MailSettings.from_config(app.config)
    return Ticker(
        db,
        lease_seconds=lease,
        mail_due=lambda: outbox.next_attempt_at(db.unit_of_work(write=False)),
        send_mail=lambda owner, stop: outbox.flush(
            db, SYSTEM_CLOCK, mail_settings, owner=owner, lease_seconds=lease, stop=stop
        ),
    )


def configure_logging() -> None:
    from . import logs

    logs.configure(logging.INFO)  # JSON lines with DOEFLOW_LOG_FORMAT=json (production's default), else text
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per job run is noise


def start_ticker(app: Flask) -> Ticker:
    configure_logging()
    ticker = make_ticker(app)
    ticker.start()
    atexit.register(ticker.stop)
    app.extensions["doeflow.ticker"] = ticker
    return ticker
