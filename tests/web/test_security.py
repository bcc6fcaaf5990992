"""The web layer against hostile input: CSRF on every state-changing route, security headers,
sign-in throttling, request size, and how passwords are stored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from engine.org import users
from engine.store.db import Base
from engine.store.models import User
from tests.web.test_pages import EFP, PASSWORD, Client, at_regional_review
from web import security
from web.api import PREFIX

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def everything(world) -> dict[str, list[tuple]]:
    """Every row of every table, to show that a refused request changed nothing."""
    with world.db.engine.connect() as connection:
        return {
            table.name: sorted(map(tuple, connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def state_changing_routes(app) -> list[tuple[str, object]]:
    """(method, rule) for every route that may change something, outside the bearer-token API."""
    return [
        (method, rule)
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(PREFIX + "/")
        for method in sorted(STATE_CHANGING & rule.methods)
    ]


def test_every_state_changing_route_refuses_a_post_without_its_csrf_token(site, world):  # noqa: F811
    instance, task = at_regional_review(world)
    values = {"task_id": task.id, "instance_id": instance.id, "process_id": "mefm_request"}
    browser = Client(site)
    browser.sign_in(EFP)
    before = everything(world)
    routes = state_changing_routes(site)
    assert {rule.endpoint for _, rule in routes} >= {"auth.login", "auth.logout", "inbox.claim", "tasks.submit"}
    for method, rule in routes:
        url = rule.build({name: values.get(name, 1) for name in rule.arguments})[1]  # 1: any other id
        form = {"_action": "complete", "regional_recommendation": "recommend", "language": "es", "assignee": "1"}
        response = browser.http.open(url, method=method, data=form)
        assert response.status_code == 400, (method, url, response.status_code)
    assert everything(world) == before
    assert browser.get("/").status_code == 200  # still signed in: the logout was refused too


def test_security_headers_are_on_pages_error_pages_and_the_api(site, world):  # noqa: F811
    browser = Client(site)
    browser.sign_in(EFP)
    for response in (
        browser.get("/"),
        browser.get("/login"),
        browser.get("/no/such/page"),
        browser.get(f"{PREFIX}/tasks"),
    ):
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'self'"):
            assert directive in policy
        assert "unsafe-eval" not in policy and "script-src 'self' 'unsafe-inline'" not in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
    assert browser.get("/no/such/page").status_code == 404
    assert browser.get(f"{PREFIX}/tasks").status_code == 401


def test_no_page_has_an_inline_script(site, world):  # noqa: F811
    instance, task = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    for url in ("/login", "/", "/start", f"/tasks/{task.id}", f"/instances/{instance.id}", "/nowhere"):
        page = browser.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"\son[a-z]+\s*=", page), url


def test_the_session_cookie_is_http_only_and_same_site(site, world):  # noqa: F811
    response = Client(site).get("/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_production_cookies_are_secure(monkeypatch):
    import config as settings

    monkeypatch.setenv("DOEFLOW_SECRET_KEY", "a production secret")
    production = settings.load("production")
    assert production.SESSION_COOKIE_SECURE and production.SESSION_COOKIE_HTTPONLY
    assert production.SESSION_COOKIE_SAMESITE == "Lax"


def without_tokens(response) -> str:
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", response.get_data(as_text=True))


def test_the_eleventh_sign_in_attempt_in_a_minute_waits_whether_the_email_exists_or_not(site, monkeypatch):  # noqa: F811
    limiter = security.limiter(site)
    limiter.reset()
    pages = {}
    for email in (EFP, "nobody@nowhere.example"):
        limiter.reset()
        browser = Client(site)
        for _ in range(10):
            assert browser.sign_in(email, "not the password").status_code == 401
        throttled = browser.sign_in(email, PASSWORD if email == EFP else "not the password")
        assert throttled.status_code == 429 and "Wait a minute" in throttled.get_data(as_text=True)
        assert throttled.headers["Retry-After"] == "60"
        pages[email] = without_tokens(throttled)
    assert pages[EFP] == pages["nobody@nowhere.example"]
    assert "nobody@nowhere.example" not in pages[EFP] and EFP not in pages[EFP]

    # Failures for one email from one address hold it from another address too; after the window
    # the right password works.
    limiter.reset()
    somewhere, elsewhere = Client(site), Client(site)
    somewhere.http.environ_base["REMOTE_ADDR"], elsewhere.http.environ_base["REMOTE_ADDR"] = "10.0.0.7", "10.0.0.8"
    for _ in range(10):
        assert somewhere.sign_in(EFP, "not the password").status_code == 401
    assert elsewhere.sign_in(EFP, PASSWORD).status_code == 429
    later = datetime.now(timezone.utc) + timedelta(minutes=1, seconds=5)
    monkeypatch.setattr("time.time", lambda: later.timestamp())
    assert Client(site).sign_in(EFP, PASSWORD).status_code == 302


def test_passwords_are_stored_as_scrypt_hashes(site, world):  # noqa: F811
    with world.uow() as uow:
        stored = uow.session.scalar(select(User.password_hash).where(User.email == EFP))
    assert stored.startswith("scrypt:") and PASSWORD not in stored


def test_a_too_large_post_gets_413_as_a_page_and_as_json_under_the_api(site, world):  # noqa: F811
    browser = Client(site)
    browser.sign_in(EFP)
    huge = "x" * (site.config["MAX_CONTENT_LENGTH"] + 1)
    page = browser.post("/login", {"email": huge, "password": "x"})
    assert page.status_code == 413 and "larger than this site accepts" in page.get_data(as_text=True)
    token = users.issue_token(world.uow(), EFP)
    api = browser.http.post(
        f"{PREFIX}/processes/mefm_request/instances",
        data=huge,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 413 and api.is_json and api.get_json()["error"]
    assert api.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("target", ["///evil.example", "/%5Cevil.example", " //evil.example", "https:/evil.example"])
def test_sign_in_never_redirects_to_another_site_with_odd_slashes(site, target):  # noqa: F811
    browser = Client(site)
    browser.get("/login")
    response = browser.http.post(
        f"/login?next={target}", data={"email": EFP, "password": PASSWORD, "csrf_token": browser.token}
    )
    assert response.status_code == 302
    assert response.location == "/" or (response.location.startswith("/") and not response.location.startswith("//"))
