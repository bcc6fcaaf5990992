"""What every response carries against hostile pages and clients: security headers, sign-in
throttling (the answers for too large and too many requests are in web/errors.py)."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# No 'unsafe-inline' anywhere: no page has an inline script, and bpmn-js styles its SVG through the
# CSSOM (element.style), which style-src does not restrict; checked in Chromium with no violation
# reported. Its CSS embeds the icon font as data:.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
LOGIN_ENDPOINT = "auth.login"


def init_app(app: Flask) -> None:
    """Call after the blueprints are registered: the sign-in view is wrapped by the throttle."""
    app.after_request(_add_headers)
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config.get("RATELIMIT_STORAGE_URI"))
    app.extensions["doeflow.limiter"] = limiter
    per_attempt = app.config.get("LOGIN_ATTEMPTS_PER_MINUTE", 10)
    rate = f"{per_attempt} per minute"
    view = app.view_functions[LOGIN_ENDPOINT]
    # Two counters: one per address (one machine trying many emails), one per email (many machines
    # trying one account). Both count a POST whatever its outcome, so a 429 says nothing of the email.
    view = limiter.limit(rate, methods=["POST"], scope="login-ip")(view)
    view = limiter.limit(rate, key_func=_attempted_email, methods=["POST"], scope="login-email")(view)
    app.view_functions[LOGIN_ENDPOINT] = view


def limiter(app: Flask) -> Limiter:
    return app.extensions["doeflow.limiter"]


def _attempted_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254] or get_remote_address()


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
