"""The staff pages through Flask's test client: sign-in, CSRF, the inbox's query, the task page's
actions (draft, complete twice, release, reassign) and the other office's view."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from engine.org.users import hash_password
from engine.store.models import User
from engine.work import instances, tasks
from tests.web.people import COM, DIRECTOR, EFP, MEFM, PASSWORD, RM, Client  # noqa: F401 (others import them here)


def at_regional_review(world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    for who, data in ((RM, MEFM["mefm_budget_check"]), (COM, MEFM["mefm_com_submission"])):
        task = next(t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance.id)
        tasks.complete_task(world.uow(), world.user(who), task.id, data)
    return instance, next(t for t in tasks.inbox(world.uow(), world.user(EFP)) if t.instance_id == instance.id)


def test_pages_need_a_sign_in_and_a_wrong_password_says_the_same_as_an_unknown_email(site):
    browser = Client(site)
    response = browser.get("/")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
    wrong = browser.sign_in(COM, "not the password")
    unknown = Client(site).sign_in("nobody@nowhere.example", "not the password")
    assert wrong.status_code == unknown.status_code == 401

    def page(response, email):
        text = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", response.get_data(as_text=True))
        return text.replace(f'value="{email}"', "")

    assert page(wrong, COM) == page(unknown, "nobody@nowhere.example")
    assert "The email or the password is not right." in page(wrong, COM)


def test_a_form_posted_without_its_csrf_token_is_refused(site, world):
    _, task = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    response = browser.post(f"/tasks/{task.id}/claim", csrf=False)
    assert response.status_code == 400
    assert tasks.get_task(world.uow(), world.user(EFP), task.id).assignee_id is None


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(site, target):
    browser = Client(site)
    browser.get("/login")
    response = browser.http.post(
        f"/login?next={target}", data={"email": EFP, "password": PASSWORD, "csrf_token": browser.token}
    )
    assert response.status_code == 302 and response.location == "/"


def test_the_inbox_reads_the_task_projection_never_the_workflow_state(site, world):
    at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    statements = []
    engine = site.extensions["doeflow.db"].engine
    listener = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = browser.get("/").get_data(as_text=True)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert "Review the request for the region" in page and "sla-ok" in page
    assert any("human_task" in s for s in statements)
    assert not any(re.search(r"process_instance\.state\b", s) for s in statements), statements


def test_a_draft_is_kept_then_the_task_completed_once_and_a_second_submission_changes_nothing(site, world):
    instance, task = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    browser.get(f"/tasks/{task.id}")
    draft = browser.post(f"/tasks/{task.id}", {"regional_recommendation": "recommend", "_action": "draft"})
    assert draft.status_code == 302
    page = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert re.search(r'value="recommend"[^>]*checked', page) and "held by Emergency Focal Point" in page

    refused = browser.post(f"/tasks/{task.id}", {"regional_recommendation": "return", "_action": "complete"})
    assert refused.status_code == 400 and "This field is required." in refused.get_data(as_text=True)
    done = browser.post(f"/tasks/{task.id}", {"regional_recommendation": "recommend", "_action": "complete"})
    assert done.status_code == 302
    again = browser.post(f"/tasks/{task.id}", {"regional_recommendation": "return", "regional_comments": "late"})
    said = again.get_data(as_text=True)
    assert again.status_code == 409 and "Nothing was saved: the task was already completed by" in said
    assert "Your entries (not saved)" in said and "late" in said  # the entries stay on the page
    outcomes = [e.outcome for e in instances.get_instance(world.uow(), world.user(EFP), instance.id).events]
    assert outcomes.count("recommend") == 1 and "return" not in outcomes


def test_a_regional_director_reassigns_from_the_task_page_and_the_holder_can_release(site, world):
    _, task = at_regional_review(world)
    holder = Client(site)
    holder.sign_in(EFP)
    holder.post(f"/tasks/{task.id}/claim")
    director = Client(site)
    director.sign_in(DIRECTOR)
    page = director.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Give this task to" in page
    assert holder.post(f"/tasks/{task.id}/reassign", {"assignee": str(world.user(EFP))}).status_code == 403
    moved = director.post(f"/tasks/{task.id}/reassign", {"assignee": str(world.user(EFP))})
    assert moved.status_code == 302
    assert holder.post(f"/tasks/{task.id}/release").status_code == 302
    assert tasks.get_task(world.uow(), world.user(EFP), task.id).assignee_id is None


def test_another_office_sees_a_404_page_for_the_instance_and_its_task(site, world):
    instance, task = at_regional_review(world)
    with world.uow() as uow:
        pan = uow.session.scalar(select(User).where(User.email == "chief-of-mission@pan.demo"))
        pan.password_hash = hash_password(PASSWORD)
        uow.commit()
    browser = Client(site)
    browser.sign_in("chief-of-mission@pan.demo")
    for url in (f"/instances/{instance.id}", f"/tasks/{task.id}", f"/instances/{instance.id}/diagram"):
        response = browser.get(url)
        assert response.status_code == 404 and MEFM["mefm_request_start"]["title"] not in response.get_data(
            as_text=True
        )
    assert browser.post(f"/tasks/{task.id}/claim").status_code == 404


def test_the_language_is_kept_on_the_user_and_spanish_validation_messages_are_shown(site, world):
    _, task = at_regional_review(world)
    browser = Client(site)
    browser.sign_in(EFP)
    browser.post("/language", {"language": "es", "next": "/"})
    with world.uow() as uow:
        assert uow.session.scalar(select(User.language).where(User.email == EFP)) == "es"
    again = Client(site)
    again.sign_in(EFP)
    assert "Bandeja de entrada" in again.get("/").get_data(as_text=True)
    again.get(f"/tasks/{task.id}")
    refused = again.post(f"/tasks/{task.id}", {"regional_recommendation": "return", "_action": "complete"})
    assert "Este campo es obligatorio." in refused.get_data(as_text=True)


def test_times_are_shown_in_the_users_time_zone(site, world):
    at_regional_review(world)  # submitted at T0, 2026-11-25 12:00 UTC: due 2026-11-27 12:00 UTC
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == EFP)).timezone = "America/Port-au-Prince"
        uow.commit()
    browser = Client(site)
    browser.sign_in(EFP)
    page = browser.get("/").get_data(as_text=True)
    assert "27 Nov 2026, 07:00 (UTC\u221205:00)" in page  # UTC-5 in November; the inbox names the offset


@pytest.mark.parametrize("url", ["/instances/9223372036854775808", "/instances/9223372036854775808/diagram"])
def test_an_id_beyond_the_database_integers_is_a_404_not_a_crash(site, url):
    browser = Client(site)
    browser.sign_in(EFP)
    assert browser.get(url).status_code == 404


def test_a_database_that_does_not_answer_gives_a_503_page_not_a_crash(site, world, monkeypatch):
    from sqlalchemy.exc import OperationalError

    browser = Client(site)
    browser.sign_in(EFP)

    def down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("the database system is starting up"))

    monkeypatch.setattr("engine.work.pages.inbox_page", down)
    response = browser.get("/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "nothing was saved" in response.get_data(as_text=True)
    api = site.test_client().get("/api/v1/tasks", headers={"Authorization": "Bearer nope"})
    assert api.status_code == 401  # the API's own errors are unchanged


@pytest.mark.parametrize(
    "window_hours, left_hours, state, text",
    [
        (48, 48, "ok", "48 hours left"),
        (48, 13, "ok", "13 hours left"),
        (48, 12, "soon", "12 hours left"),  # the last quarter of the window
        (8, 4, "soon", "4 hours left"),  # or the last 4 hours
        (240, 96, "ok", "4 days left"),
        (48, -0.5, "overdue", "overdue by 30 minutes"),
        (48, -50, "overdue", "overdue by 50 hours"),
    ],
)
def test_the_sla_state_at_a_glance(app, window_hours, left_hours, state, text):
    from datetime import datetime, timedelta, timezone

    from web.ui import sla

    now = datetime(2026, 11, 25, 12, tzinfo=timezone.utc)
    due = now + timedelta(hours=left_hours)
    with app.test_request_context("/"):
        found = sla(due - timedelta(hours=window_hours), due, now)
    assert (found.state, found.text) == (state, text)
