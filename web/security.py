"""What every response carries against hostile pages and clients: security headers, sign-in
throttling, addresses and form posts with a NUL character refused (the answers for too large and
too many requests are in web/errors.py)."""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.datastructures import MultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

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
    behind_proxies(app)
    app.before_request(_refuse_nul)
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config.get("RATELIMIT_STORAGE_URI"))
    app.extensions["doeflow.limiter"] = limiter
    per_email = f"{app.config.get('LOGIN_ATTEMPTS_PER_MINUTE', 10)} per minute"
    per_address = f"{app.config.get('LOGIN_FAILURES_PER_ADDRESS', 100)} per minute"
    view = app.view_functions[LOGIN_ENDPOINT]
    # Two counters of failed sign-ins (a wrong password and an unknown email fail alike, so a 429
    # says nothing of the email): one per email (many machines trying one account), one per address
    # with a far larger allowance (one machine trying many emails), so a real user at an address
    # shared with a careless or hostile one (an office behind one router) still signs in.
    failed = _failed_sign_in
    view = limiter.limit(per_address, methods=["POST"], scope="login-ip", deduct_when=failed)(view)
    view = limiter.limit(
        per_email, key_func=_attempted_email, methods=["POST"], scope="login-email", deduct_when=failed
    )(view)
    app.view_functions[LOGIN_ENDPOINT] = view


def behind_proxies(app: Flask) -> None:
    """Trust the X-Forwarded-For and -Proto headers of DOEFLOW_PROXY_HOPS proxies in front (the load
    balancer): the client's address (for the sign-in counters and the logs) and its scheme. With
    no hops (the default) they are ignored, so a client cannot forge its address."""
    hops = app.config.get("PROXY_HOPS", 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def _failed_sign_in(response: Response) -> bool:
    return response.status_code == 401


def limiter(app: Flask) -> Limiter:
    return app.extensions["doeflow.limiter"]


def _attempted_email() -> str:
    return (request.form.get("email") or "").strip().lower()[:254] or get_remote_address()


def _add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _refuse_nul() -> None:
    """A NUL character is no part of any address, name or text here (PostgreSQL refuses it in
    text): an address holding one in its path or its query, or a form post in a field's name or
    value (the sign-in's email, a reason, a schema), is a bad request for every route, answered
    before any view reads it."""
    if "\x00" in request.path or _holds_nul(request.args):
        abort(400, description=_("The address holds a NUL character, which names nothing here."))
    if request.method == "POST" and _holds_nul(request.form):
        abort(400, description=_("The form holds a NUL character, which no field may hold: nothing was saved."))


def _holds_nul(values: MultiDict) -> bool:
    # A multipart part may come without a name (None): nothing to look at there.
    return any("\x00" in (key or "") or "\x00" in (value or "") for key, value in values.items(multi=True))
