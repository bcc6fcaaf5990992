"""One error map for pages and API (web/errors.py), tried with TESTING off as production runs: a step
that fails is a translated 422 page naming the step, and nothing is saved; an unexpected error is
a translated 500 page, never Werkzeug's; the API and the pages' JSON endpoints answer JSON."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

import config as settings
from engine.org import users
from engine.org.users import hash_password
from engine.store.models import HumanTask, User
from engine.work import instances, pages, tasks
from tests.engine.conftest import diagram, publish
from tests.engine.work.test_instances import APPROVER, DRAFT, EFP, PD_HTI, only_task
from tests.web.test_pages import PASSWORD, Client
from web import create_app

BROKEN = {"reference = 'FR-' + office + '-' + str(int(amount))": "reference = 'FR-' + funding_code"}


@pytest.fixture
def production_app(db, world):
    config = settings.load("test")
    config.DATABASE_URL = db.engine.url.render_as_string(hide_password=False)
    config.TESTING = False  # exceptions go through the error handlers, as in production
    app = create_app(config)
    app.extensions["doeflow.clock"] = world.clock
    with world.uow() as tx:
        for user in tx.session.scalars(select(User).where(User.email.in_([PD_HTI, EFP, APPROVER]))):
            user.password_hash = hash_password(PASSWORD)
        tx.commit()
    yield app
    app.extensions["doeflow.db"].engine.dispose()


@pytest.fixture
def failing_approval(world):
    """A funding review waiting for the approval, whose next step (a script) fails."""
    publish(world, diagram("funding_review.bpmn", **BROKEN))
    instance = instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review", "HTI", {})
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "recommend"})
    return only_task(world, APPROVER, instance.id)


def open_tasks(world, instance_id):
    with world.uow() as tx:
        return list(
            tx.session.scalars(
                select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
            )
        )


def test_a_failing_step_submitted_from_the_task_page_is_a_422_page_naming_it_and_nothing_is_saved(
    production_app, world, failing_approval
):
    browser = Client(production_app)
    browser.sign_in(APPROVER)
    browser.get(f"/tasks/{failing_approval.id}")
    page = browser.post(f"/tasks/{failing_approval.id}", {"_action": "complete"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "text/html" in page.content_type
    assert "The process could not go on" in text and "Give the request a reference" in text
    assert "Nothing was saved" in text and "Internal Server Error" not in text
    assert open_tasks(world, failing_approval.instance_id) == [failing_approval.id]


def test_the_same_failure_is_in_spanish_for_a_spanish_speaker(production_app, world, failing_approval):
    users.set_language(world.uow(), world.user(APPROVER), "es")
    browser = Client(production_app)
    browser.sign_in(APPROVER)
    browser.get(f"/tasks/{failing_approval.id}")
    text = browser.post(f"/tasks/{failing_approval.id}", {"_action": "complete"}).get_data(as_text=True)
    assert "El proceso no pudo continuar" in text and "El paso «Give the request a reference» falló" in text
    assert "No se guardó nada" in text


def test_the_api_answers_the_same_failure_as_json_422(production_app, world, failing_approval):
    token = users.issue_token(world.uow(), APPROVER)
    response = production_app.test_client().post(
        f"/api/v1/tasks/{failing_approval.id}/complete", json={"data": {}}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422 and response.is_json
    assert "set_reference" in response.get_json()["error"] and response.get_json()["fields"] == {}


def test_an_unexpected_error_is_a_translated_500_page_and_json_on_the_api(production_app, world, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(pages, "inbox_page", broken)
    browser = Client(production_app)
    browser.sign_in(PD_HTI)
    page = browser.get("/")
    assert page.status_code == 500 and "Something went wrong" in page.get_data(as_text=True)
    assert "Internal Server Error" not in page.get_data(as_text=True)
    monkeypatch.setattr(tasks, "inbox", broken)
    token = users.issue_token(world.uow(), PD_HTI)
    api = production_app.test_client().get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 500 and api.is_json and api.get_json()["error"]


def test_a_page_asking_for_json_gets_its_errors_as_json(production_app, world):
    browser = Client(production_app)
    browser.sign_in(PD_HTI)
    response = browser.http.post(
        "/modeler/drafts/1/files", json={"files": {}}, headers={"X-CSRFToken": browser.token or ""}
    )
    assert response.status_code == 403 and response.is_json and "Process Manager" in response.get_json()["error"]


def test_the_task_page_opens_one_transaction_besides_the_sign_in_check(production_app, world):
    publish(world, diagram("funding_review.bpmn"))
    instance = instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review", "HTI", {})
    task = only_task(world, PD_HTI, instance.id)
    browser = Client(production_app)
    browser.sign_in(PD_HTI)
    engine = production_app.extensions["doeflow.db"].engine
    begun = []
    listener = lambda connection: begun.append(connection)  # noqa: E731
    event.listen(engine, "begin", listener)
    try:
        page = browser.get(f"/tasks/{task.id}")
    finally:
        event.remove(engine, "begin", listener)
    assert page.status_code == 200 and "Draft the request" in page.get_data(as_text=True)
    # Every signed-in request reads who is signed in (flask-login's user loader); the page reads the rest at once.
    assert len(begun) == 2


def test_every_engine_error_has_its_status():
    from engine.errors import (
        Conflict,
        InvalidData,
        InvalidDiagram,
        NotFound,
        PermissionDenied,
        ProcessFailure,
        ScriptRefused,
    )
    from web.errors import status_of

    errors = [InvalidData("x"), PermissionDenied("x"), NotFound("x"), Conflict("x"), InvalidDiagram([]),
              ScriptRefused("x"), ProcessFailure("e", "x")]  # fmt: skip
    assert [status_of(e) for e in errors] == [400, 403, 404, 409, 422, 422, 422]
