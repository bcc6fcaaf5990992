"""One error map for pages and the API: every engine error, HTTP error and database outage becomes
a status, a title and a message. Under /api/ the answer is JSON `{"error": ..., "fields": {...}}`;
a page's JSON endpoint gets the same JSON in the user's language; elsewhere it is the error page.
No engine error reaches anyone as a bare 500.
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from engine.errors import (
    BudgetExceeded,
    Conflict,
    EngineError,
    InvalidData,
    InvalidDiagram,
    NotFound,
    PermissionDenied,
    ProcessFailure,
    ScriptRefused,
    TooLarge,
)

from .downloads import size_text
from .ui import language

API_PREFIX = "/api/"
log = logging.getLogger("doeflow.web")

# The HTTP status of each engine error; any other engine error means the process could not do this step.
STATUS_OF_ERROR: tuple[tuple[type[EngineError], int], ...] = (
    (TooLarge, 413),  # before InvalidData, of which it is a kind
    (InvalidData, 400),
    (PermissionDenied, 403),
    (NotFound, 404),
    (Conflict, 409),
    (InvalidDiagram, 422),
    (ScriptRefused, 422),
    (BudgetExceeded, 422),  # a step past DOEFLOW_STEP_MAX_TASKS or _SECONDS: a kind of ProcessFailure
    (ProcessFailure, 422),
)
RETRY_AFTER = {429: "60", 503: "5"}


def status_of(error: EngineError) -> int:
    return next((code for kind, code in STATUS_OF_ERROR if isinstance(error, kind)), 422)


def init_app(app: Flask) -> None:
    app.register_error_handler(EngineError, engine_error)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(OperationalError, database_unavailable)


def answer(code: int, title: str, message: str, fields: dict | None = None, headers: dict | None = None):
    headers = {**({"Retry-After": RETRY_AFTER[code]} if code in RETRY_AFTER else {}), **(headers or {})}
    if wants_json():
        return {"error": message, "fields": dict(fields or {})}, code, headers
    return render_template("error.html", code=code, title=title, message=message), code, headers


def wants_json() -> bool:
    """The API, and the pages' own JSON endpoints (the modeler saves and tries drafts with JSON)."""
    if request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/"):
        return True
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return request.is_json or best == "application/json"


def engine_error(error: EngineError):
    code = status_of(error)
    fields = getattr(error, "fields", None)
    if request.path.startswith(API_PREFIX):
        return answer(code, "", str(error), fields)  # the API's callers read the engine's own words
    title, message = _page_text(error)
    return answer(code, title, message, fields)


def _page_text(error: EngineError) -> tuple[str, str]:
    if isinstance(error, NotFound):
        return _("Not found"), _("There is nothing here for you: it does not exist or belongs to another office.")
    if isinstance(error, PermissionDenied):
        return _("Not allowed"), _("Your roles do not allow this: %(why)s", why=str(error))
    if isinstance(error, Conflict):
        return _("Already done"), _("Somebody acted first: %(why)s", why=str(error))
    if isinstance(error, TooLarge):
        limit = size_text(error.limit, language())
        return _("Too large"), _("The file is larger than %(limit)s: nothing was saved.", limit=limit)
    if isinstance(error, InvalidData):
        return _("Not valid"), str(error)
    if isinstance(error, BudgetExceeded):
        step = error.name or error.element or _("the process")
        why = _("The process ran past what one step may do, at “%(step)s”: a loop that never ends?", step=step)
        return _("The process could not go on"), why + " " + _("Nothing was saved. Tell a Process Manager.")
    if isinstance(error, ProcessFailure):
        step = error.name or error.element or _("the process")
        why = _("The step “%(step)s” failed: %(why)s.", step=step, why=error.message)
        return _("The process could not go on"), why + " " + _("Nothing was saved. Tell a Process Manager.")
    return _("The process could not go on"), _("Nothing was saved: %(why)s", why=str(error))


def http_error(error: HTTPException):
    code = error.code or 500
    if isinstance(error, InternalServerError):
        log.error("internal error on %s %s", request.method, request.path, exc_info=error.original_exception)
    headers = {k: v for k, v in error.get_headers() if k.lower() == "allow"}
    title, message = _http_text(code, error)
    return answer(code, title, message, headers=headers)


def _http_text(code: int, error: HTTPException) -> tuple[str, str]:
    known = {
        404: (_("Not found"), _("There is nothing at this address.")),
        413: (_("Too large"), _("What was sent is larger than this site accepts.")),
        429: (_("Too many attempts"), _("Too many attempts. Wait a minute, then try again.")),
        500: (_("Something went wrong"), _("The request was not carried out; nothing was saved. Try again.")),
    }
    if code in known:
        return known[code]
    return error.name, error.description or error.name


def database_unavailable(error: OperationalError):
    # The database restarting or unreachable: nothing was saved (one transaction per action).
    log.warning("database unavailable: %s", error.orig)
    return answer(503, _("Try again in a moment"), _("The database did not answer; nothing was saved."))
