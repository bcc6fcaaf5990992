"""Field work under poor connections, through the test client with CSRF on: a refused form token
gives the same form back with the entries and a note (nothing saved); the token lasts as long as
the session; start forms keep drafts; every time on the pages carries its zone, one date format
per language."""

from __future__ import annotations

import re
import time

import flask_wtf.csrf
import pytest
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select

from engine.org.users import hash_password
from engine.store.models import ProcessInstance, StartDraft, User
from engine.work import start_drafts, tasks
from tests.web.people import COM, EFP, MEFM, PASSWORD, RM, Client
from tests.web.test_authorization_matrix import flat
from tests.web.test_pages import at_regional_review
from web import expired_forms

NOTE_EN = "Your session&#39;s form token expired; check your entries and submit again."
NOTE_ES = "El token de formulario de su sesión caducó; revise lo que escribió y envíelo de nuevo."
COMMENT = "Linked to EPPE-HTI-2025-014; the office has the staff to spend it."
START = MEFM["mefm_request_start"]


def refused_token(browser: Client, site, how: str) -> str | None:
    """No token at all, or one from another session (the session renewed in another tab)."""
    if how == "missing":
        return None
    other = Client(site)
    other.get("/login")
    return other.token


def set_user(world, email: str, **values) -> None:
    with world.uow() as uow:
        user = uow.session.scalar(select(User).where(User.email == email))
        for name, value in values.items():
            setattr(user, name, value)
        uow.commit()


def count(world, model) -> int:
    with world.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("how", ["missing", "another session"])
def test_a_task_form_with_a_refused_token_comes_back_with_the_entries_and_nothing_saved(site, world, how):
    _, task = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    browser.get(f"/tasks/{task.id}")
    entries = {"regional_recommendation": "recommend_rejection", "regional_comments": COMMENT, "_action": "complete"}
    token = refused_token(browser, site, how)
    response = browser.http.post(f"/tasks/{task.id}", data={**entries, **({"csrf_token": token} if token else {})})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert NOTE_EN in page and COMMENT.replace("'", "&#39;") in page
    assert re.search(r'value="recommend_rejection"[^>]*checked', page)
    fresh = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    after = tasks.get_task(world.uow(), world.user(EFP), task.id)
    assert (after.state, after.assignee_id, after.draft) == ("open", None, None)

    again = browser.http.post(
        f"/tasks/{task.id}", data={**entries, "regional_recommendation": "recommend", "csrf_token": fresh}
    )
    assert again.status_code == 302  # the form it gave back carries a token that works
    assert tasks.get_task(world.uow(), world.user(EFP), task.id).state == "completed"


def test_the_note_is_in_spanish_for_a_spanish_speaker(site, world):
    _, task = at_regional_review(world)
    set_user(world, EFP, language="es")
    browser = Client(site)
    browser.sign_in(EFP)
    response = browser.http.post(f"/tasks/{task.id}", data={"regional_comments": COMMENT, "_action": "complete"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NOTE_ES in page
    assert COMMENT.replace("'", "&#39;") in page


def test_a_start_form_with_a_refused_token_comes_back_with_the_entries_and_starts_nothing(site, world):
    browser = Client(site)
    browser.sign_in(COM)
    browser.get("/start/mefm_request")
    response = browser.http.post(
        "/start/mefm_request",
        data={"office": "HTI", "title": START["title"], "justification": "roads cut", "_action": "start"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NOTE_EN in page
    assert "roads cut" in page and START["title"].replace("'", "&#39;") in page
    assert count(world, ProcessInstance) == 0


def test_the_sign_in_form_with_a_refused_token_keeps_the_email(site):
    browser = Client(site)
    browser.get("/login")
    response = browser.http.post("/login", data={"email": EFP, "password": "whatever"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NOTE_EN in page and f'value="{EFP}"' in page


def test_without_a_session_the_note_is_on_the_error_page_not_a_bare_400(site, world):
    _, task = at_regional_review(world)
    response = Client(site).http.post(f"/tasks/{task.id}", data={"regional_comments": COMMENT})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NOTE_EN in page and "Bad Request" not in page
    assert COMMENT not in page  # nobody signed in: nothing of the case is shown


def test_another_offices_task_with_a_refused_token_shows_nothing_of_the_case(site, world):
    _, task = at_regional_review(world)
    pan = "chief-of-mission@pan.demo"
    set_user(world, pan, password_hash=hash_password(PASSWORD))
    outsider = Client(site)
    outsider.sign_in(pan)
    response = outsider.http.post(f"/tasks/{task.id}", data={"regional_comments": COMMENT})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and NOTE_EN in page
    assert page.count(NOTE_EN) == 1 and "Review the request for the region" not in page


class DayOldSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 24 * 3600


class DayOldTokens(URLSafeTimedSerializer):
    """Flask-WTF's token serializer, signing as if it were a day ago."""

    default_signer = DayOldSigner


def test_a_token_lasts_as_long_as_the_session_not_an_hour(site, world, monkeypatch):
    _, task = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    with monkeypatch.context() as patched:  # the page was opened a day ago
        patched.setattr(flask_wtf.csrf, "URLSafeTimedSerializer", DayOldTokens)
        browser.get(f"/tasks/{task.id}")
    done = browser.post(f"/tasks/{task.id}", {"regional_recommendation": "recommend", "regional_comments": COMMENT})
    assert done.status_code == 302
    assert tasks.get_task(world.uow(), world.user(EFP), task.id).state == "completed"


def test_every_refusable_form_of_a_field_officer_is_shown_again():
    assert {"tasks.submit", "start.form", "auth.login"} <= set(expired_forms.AGAIN)


def test_save_draft_on_the_start_form_keeps_the_entries_for_next_time_and_starting_deletes_it(site, world):
    browser = Client(site)
    browser.sign_in(COM)
    browser.get("/start/mefm_request")
    half = {"office": "HTI", "title": START["title"], "requested_amount_usd": "500k", "_action": "draft"}
    saved = browser.post("/start/mefm_request", half)
    assert saved.status_code == 302 and saved.location == "/start/mefm_request?office=HTI"
    assert count(world, ProcessInstance) == 0  # a draft starts nothing and is not checked

    page = browser.get("/start/mefm_request").get_data(as_text=True)
    assert 'value="500k"' in page and START["title"].replace("'", "&#39;") in page
    assert "Your draft of 25 Nov 2026, 12:00 (UTC) is filled in" in page

    form = {"office": "HTI", "_action": "start", **flat(START)}
    assert browser.post("/start/mefm_request", form).status_code == 302
    assert count(world, ProcessInstance) == 1 and count(world, StartDraft) == 0
    assert 'value="500k"' not in browser.get("/start/mefm_request").get_data(as_text=True)


def test_only_who_may_start_the_process_saves_a_start_draft(site, world):
    browser = Client(site)
    browser.sign_in(RM)  # Resources Management may not start an MEFM request
    browser.get("/start")
    refused = browser.post("/start/mefm_request", {"office": "HTI", "title": "mine", "_action": "draft"})
    assert refused.status_code == 404 and count(world, StartDraft) == 0
    assert start_drafts.start_page(world.uow(), world.user(COM), "mefm_request").values == {}


def test_times_on_the_task_page_carry_the_users_zone_in_each_language(site, world):
    _, task = at_regional_review(world)  # due 2026-11-27 12:00 UTC
    set_user(world, EFP, timezone="America/Port-au-Prince")
    browser = Client(site)
    browser.sign_in(EFP)
    english = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "due 27 Nov 2026, 07:00 (UTC\u221205:00 America/Port-au-Prince)" in english
    set_user(world, EFP, language="es")
    spanish = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "27 nov 2026, 07:00 (UTC\u221205:00 America/Port-au-Prince)" in spanish
    assert "25 nov 2026, 07:00 (UTC\u221205:00)" in spanish  # the earlier answers, with the offset


def test_dates_in_answers_are_written_the_one_way_of_each_language(site, world):
    instance, _ = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    assert "14 Sep 2025" in browser.get(f"/instances/{instance.id}").get_data(as_text=True)  # the onset date
    set_user(world, EFP, language="es")
    assert "14 sept 2025" in browser.get(f"/instances/{instance.id}").get_data(as_text=True)
