"""A form posted with an expired or missing CSRF token (a tab left open, a session renewed in another
tab) comes back as the same form with the entries kept and a note to submit again, instead of a
bare 400 that loses them. Nothing is saved. The pages with such forms register how to show
themselves again; any other refused post gets the error page with the same note."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, flash, request, session
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from engine.errors import EngineError

from . import errors

# endpoint -> the view that shows its form again from request.form (called with the view's arguments)
AGAIN: dict[str, Callable[..., ResponseReturnValue]] = {}
PUBLIC_FORMS = {"auth.login"}  # shown again to anyone; the others only to a signed-in user


def shown_again(endpoint: str):
    """Register the view that shows `endpoint`'s form again, with the entries of request.form and
    a 400 status, when its token was refused."""

    def register(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
        AGAIN[endpoint] = view
        return view

    return register


def init_app(app: Flask) -> None:
    # More specific than web/errors.py's HTTPException handler, so Flask picks this one for CSRF.
    app.register_error_handler(CSRFError, token_refused)


def notice() -> str:
    return _("Your session's form token expired; check your entries and submit again.")


def token_refused(error: CSRFError) -> ResponseReturnValue:
    again = AGAIN.get(request.endpoint or "")
    if again is not None and (request.endpoint in PUBLIC_FORMS or current_user.is_authenticated):
        flash(notice(), "error")
        try:
            return again(**(request.view_args or {}))
        except EngineError:  # the page is not for this person: told no more than anyone else
            _unflash(notice())
    return errors.answer(400, _("Submit again"), notice())


def _unflash(message: str) -> None:
    pending = session.get("_flashes") or []
    if pending and pending[-1] == ("error", message):
        pending.pop()
        session.modified = True
