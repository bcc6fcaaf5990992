"""The modeler's routes through the test client: only a Process Manager gets anything; a draft is
saved with its problems, a form previewed, an upload size-limited."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from engine.modeling import drafts, publishing
from engine.org.users import hash_password
from engine.store.models import User
from tests.processes.conftest import FORMS, WORKFLOWS
from tests.web.test_pages import PASSWORD, Client

MANAGER = "process-manager@hq.demo"
OTHERS = ["admin@hq.demo", "regional-director@ro-americas.demo", "chief-of-mission@hti.demo", "prd@hq.demo"]


@pytest.fixture
def site(app, world):
    files = {name: (WORKFLOWS / name).read_bytes() for name in ("mefm_request.bpmn", "mefm_approval_authority.dmn")}
    publishing.publish(world.uow(), files, forms_dir=str(FORMS))
    with world.uow() as uow:
        for user in uow.session.scalars(select(User)):
            user.password_hash = hash_password(PASSWORD) if user.email in [MANAGER, *OTHERS] else None
        uow.commit()
    app.extensions["doeflow.clock"] = world.clock
    return app


def modeler_urls(app, draft_id: int) -> list[tuple[str, str]]:
    """Every modeler route of the url map, with its parameters filled in, and its methods."""
    values = {
        "draft_id": draft_id,
        "process_id": "mefm_request",
        "key": "mefm_decision",
        "name": "mefm_request.bpmn",
        "version": 1,
    }
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("modeler."):
            continue
        url = rule.rule
        if rule.endpoint == "modeler.decision":
            url = url.replace("<name>", "mefm_approval_authority.dmn")
        for arg in rule.arguments:
            url = re.sub(rf"<(?:[^:>]+:)?{arg}>", str(values[arg]), url)
        if rule.endpoint == "modeler.diff":
            url += "?a=1&b=1"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            found.append((method, url))
    return found


def test_every_modeler_route_refuses_anyone_but_a_process_manager(site, world):
    draft = drafts.open_draft(world.uow(), world.user(MANAGER), "mefm_request")
    urls = modeler_urls(site, draft.id)
    assert len(urls) >= 12
    for email in OTHERS:
        browser = Client(site)
        browser.sign_in(email)
        for method, url in urls:
            response = browser.get(url) if method == "GET" else browser.post(url, {})
            assert response.status_code == 403, (email, method, url, response.status_code)
    manager = Client(site)
    manager.sign_in(MANAGER)
    for method, url in urls:
        if method == "GET":
            assert manager.get(url).status_code == 200, url


def test_a_saved_draft_comes_back_with_its_problems_and_publishing_waits_for_them(site, world):
    manager = Client(site)
    manager.sign_in(MANAGER)
    response = manager.post("/modeler/drafts", {"process_id": "mefm_request"})
    draft_id = int(response.location.rsplit("/", 1)[1])
    page = manager.get(f"/modeler/drafts/{draft_id}").get_data(as_text=True)
    assert "Publish as a new version" in page and "bpmn-modeler.production.min.js" in page
    text = manager.get(f"/modeler/drafts/{draft_id}/files/mefm_request.bpmn").get_json()["text"]
    saved = manager.http.post(
        f"/modeler/drafts/{draft_id}/files",
        json={"files": {"mefm_request.bpmn": text.replace(">PT48H<", ">48 hours<")}},
        headers={"X-CSRFToken": manager.token},
    )
    assert saved.status_code == 200 and saved.get_json()["errors"] == 1
    assert [p["element"] for p in saved.get_json()["problems"] if p["severity"] == "error"] == ["escalate_after_48h"]
    refused = manager.post(f"/modeler/drafts/{draft_id}/publish")
    assert refused.status_code == 302 and refused.location.endswith(f"/modeler/drafts/{draft_id}")
    assert [v.version for v in drafts.versions(world.uow(), world.user(MANAGER), "mefm_request")] == [1]


def test_a_form_preview_renders_the_schema_and_reports_a_broken_one(site, world):
    manager = Client(site)
    manager.sign_in(MANAGER)
    ok = manager.http.post(
        "/modeler/preview",
        data='{"type": "object", "properties": {"amount_usd": {"type": "number", "title": "Amount (USD)"}}}',
        headers={"X-CSRFToken": manager.token},
    )
    assert ok.get_json()["problem"] is None and "Amount (USD)" in ok.get_json()["html"]
    broken = manager.http.post("/modeler/preview", data='{"type": 5', headers={"X-CSRFToken": manager.token})
    assert broken.get_json()["problem"].startswith("Not JSON")


def test_an_upload_over_the_size_limit_or_not_bpmn_is_refused_with_a_message(site, world):
    manager = Client(site)
    manager.sign_in(MANAGER)
    for name, body in (("big.bpmn", b" " * 1_000_001), ("notes.txt", b"<x/>")):
        response = manager.http.post(
            "/modeler/upload",
            data={"csrf_token": manager.token, "file": (io.BytesIO(body), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code in (302, 413)
        assert drafts.list_drafts(world.uow(), world.user(MANAGER)) == []
