"""Settings from environment variables (prefix DOEFLOW_), one class per mode.

`DOEFLOW_ENV` picks the mode: `development` (default; demo passwords allowed), `production`, `test`.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"DOEFLOW_{name}", default)


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Read when instantiated, so a changed environment (tests, CLI) is seen."""

    ENV = "development"
    DEMO = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    # A form's CSRF token lasts as long as the session (Flask-WTF's default is an hour): a form
    # filled in slowly on a poor connection is not refused for its age.
    WTF_CSRF_TIME_LIMIT = None

    def __init__(self) -> None:
        self.DATABASE_URL = _env("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'doeflow.sqlite3'}"
        self.SECRET_KEY = _env("SECRET_KEY") or "dev-only-not-secret"
        self.BASE_URL = _env("BASE_URL") or "http://127.0.0.1:5000"
        self.SMTP_HOST = _env("SMTP_HOST")
        self.SMTP_PORT = int(_env("SMTP_PORT") or 25)
        self.SMTP_USER = _env("SMTP_USER")
        self.SMTP_PASSWORD = _env("SMTP_PASSWORD")
        self.SMTP_STARTTLS = _flag("SMTP_STARTTLS", False)
        self.MAIL_FROM = _env("MAIL_FROM") or "doeflow@localhost"
        # First wait before a failed email is retried (doubling each time, at most an hour).
        self.MAIL_RETRY_SECONDS = float(_env("MAIL_RETRY_SECONDS") or 30)
        self.MAIL_DEV_FOLDER = _env("MAIL_DEV_FOLDER")
        self.SCHEDULER = _flag("SCHEDULER", True)
        self.ALLOW_TIME_TRAVEL = _flag("ALLOW_TIME_TRAVEL", False)
        # How long a worker's claim on a timer or an email lasts before another may take it over.
        self.WORKER_LEASE_SECONDS = float(_env("WORKER_LEASE_SECONDS") or 60)
        # What one step of a workflow (a start, a completion, a timer, a message, a whole dry run) may
        # run: past this many tasks or wall-clock seconds it fails and nothing of it is committed.
        self.STEP_MAX_TASKS = int(_env("STEP_MAX_TASKS") or 10_000)
        self.STEP_MAX_SECONDS = float(_env("STEP_MAX_SECONDS") or 10)
        # The data an instance's stored state may hold (each task's copy counted, as in the JSON):
        # past it the step fails and nothing of it is committed.
        self.MAX_INSTANCE_DATA_BYTES = int(_env("MAX_INSTANCE_DATA_BYTES") or 1_000_000)
        self.WORKFLOWS_DIR = str(ROOT / "workflows" / "bpmn")
        self.FORMS_DIR = str(ROOT / "forms")
        # Larger request bodies get 413 (JSON under /api); forms and API payloads are far smaller.
        self.MAX_CONTENT_LENGTH = int(_env("MAX_CONTENT_LENGTH") or 2 * 1024 * 1024)
        # Fields one form post may hold (urlencoded or multipart), checked before it is parsed; each
        # form is then held to what its schema can post (web/formparse.py field_bound).
        self.MAX_FORM_PARTS = int(_env("MAX_FORM_PARTS") or 2_000)
        # One attached file at most (20 MB); the upload routes alone accept a body this much larger.
        self.MAX_ATTACHMENT_BYTES = int(_env("MAX_ATTACHMENT_BYTES") or 20 * 1024 * 1024)
        # Failed sign-ins (POST /login) a minute for one email, from any address.
        self.LOGIN_ATTEMPTS_PER_MINUTE = int(_env("LOGIN_ATTEMPTS_PER_MINUTE") or 10)
        # Failed sign-ins from one address (all emails) a minute; an office behind one router shares it.
        self.LOGIN_FAILURES_PER_ADDRESS = int(_env("LOGIN_FAILURES_PER_ADDRESS") or 100)
        # Proxies in front whose X-Forwarded-For / -Proto are trusted (a load balancer: 1); 0 trusts none.
        self.PROXY_HOPS = int(_env("PROXY_HOPS") or 0)
        # Where the sign-in counters live: memory (one process) unless e.g. redis://host:6379 is set.
        self.RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI") or "memory://"


class DevelopmentConfig(Config):
    pass


class ProductionConfig(Config):
    ENV = "production"
    DEMO = False
    SESSION_COOKIE_SECURE = True

    def __init__(self) -> None:
        super().__init__()
        if not _env("SECRET_KEY"):
            raise RuntimeError("DOEFLOW_SECRET_KEY must be set in production")


class TestConfig(Config):
    ENV = "test"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SCHEDULER = False


MODES = {"development": DevelopmentConfig, "production": ProductionConfig, "test": TestConfig}


def load(mode: str | None = None) -> Config:
    """The settings object for `mode` (default: DOEFLOW_ENV, else development)."""
    name = mode or _env("ENV", "development") or "development"
    try:
        return MODES[name]()
    except KeyError:
        raise RuntimeError(f"DOEFLOW_ENV must be one of {', '.join(MODES)}, not {name!r}") from None
