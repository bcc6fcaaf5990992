"""Documents on a case over HTTP: the API's contract (upload 201 with its body, list, download as an
attachment, 413 over the limit, 400 without a file, 404 for another office), the pages' upload form
and download link, the body limit raised on the upload routes only, and a task form's file field
from the browser's post to the download link in the answers."""

from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from engine.modeling import publishing
from engine.org.users import hash_password
from engine.store.models import Attachment, User
from engine.work import attachments, instances, tasks
from engine.work.uploads import Upload
from tests.engine.conftest import FORMS as TEST_FORMS
from tests.engine.conftest import diagram
from tests.web.api_fixtures import (  # noqa: F401 - api_fixture is the fixture `api`
    CHIEF_OF_MISSION_HTI,
    CHIEF_OF_MISSION_PAN,
    EMERGENCY_FOCAL_POINT,
    api_fixture,
)
from tests.web.people import COM, EFP, MEFM, PASSWORD, Client

COM_PAN = "chief-of-mission@pan.demo"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def mefm_case(world) -> int:
    start = MEFM["mefm_request_start"]
    return instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", start).id


def upload(api, instance_id, who, content=PDF, name="budget.pdf"):
    data = {"file": (io.BytesIO(content), name)}
    return api.post(f"/instances/{instance_id}/attachments", who, data=data, content_type="multipart/form-data")


def stored(world) -> int:
    with world.db.unit_of_work(world.clock, write=False) as tx:
        return tx.session.scalar(select(func.count()).select_from(Attachment))


# --- the API ---------------------------------------------------------------------------------------


def test_api_upload_answers_201_with_the_document_and_lists_it(api):
    instance_id = mefm_case(api.world)
    response = upload(api, instance_id, CHIEF_OF_MISSION_HTI)
    assert response.status_code == 201, response.json
    body = response.json
    assert {"id", "name", "size", "content_type", "sha256"} <= body.keys()
    assert (body["name"], body["size"], body["content_type"]) == ("budget.pdf", len(PDF), "application/pdf")
    assert response.headers["Location"].endswith(f"/api/v1/attachments/{body['id']}")

    listed = api.get(f"/instances/{instance_id}/attachments", EMERGENCY_FOCAL_POINT)  # the region sees it
    assert listed.status_code == 200 and listed.json == {"attachments": [body]}


def test_api_download_is_always_an_attachment_with_its_cleaned_name_and_nosniff(api):
    instance_id = mefm_case(api.world)
    added = upload(api, instance_id, CHIEF_OF_MISSION_HTI, name="../Presupuesto año 2026.pdf").json
    response = api.get(f"/attachments/{added['id']}", CHIEF_OF_MISSION_HTI)
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("Presupuesto año 2026.pdf") in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_html_is_served_as_a_download_too(api):
    instance_id = mefm_case(api.world)
    added = upload(api, instance_id, CHIEF_OF_MISSION_HTI, b"<html><script>alert(1)</script></html>", "x.html").json
    response = api.get(f"/attachments/{added['id']}", CHIEF_OF_MISSION_HTI)
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_over_the_limit_is_413_and_nothing_is_saved(api):
    api.app.config["MAX_ATTACHMENT_BYTES"] = len(PDF) + 9
    instance_id = mefm_case(api.world)
    over = upload(api, instance_id, CHIEF_OF_MISSION_HTI, PDF + b"x" * 10)
    assert over.status_code == 413 and "limit" in over.json["error"] and "file" in over.json["fields"]
    assert stored(api.world) == 0
    at_limit = upload(api, instance_id, CHIEF_OF_MISSION_HTI, PDF + b"x" * 9)
    assert at_limit.status_code == 201


def test_api_a_file_past_the_ordinary_body_limit_gets_through_on_the_upload_route_only(api):
    api.app.config["MAX_CONTENT_LENGTH"] = 1024
    instance_id = mefm_case(api.world)
    big = PDF + b"x" * 4096
    assert upload(api, instance_id, CHIEF_OF_MISSION_HTI, big).status_code == 201
    too_big = {"data": {"title": "x" * 4096}}
    response = api.post("/processes/mefm_request/instances", CHIEF_OF_MISSION_HTI, {"office": "HTI", **too_big})
    assert response.status_code == 413


def test_api_a_body_past_both_limits_is_413(api):
    api.app.config.update(MAX_CONTENT_LENGTH=1024, MAX_ATTACHMENT_BYTES=2048)
    instance_id = mefm_case(api.world)
    assert upload(api, instance_id, CHIEF_OF_MISSION_HTI, PDF + b"x" * 8192).status_code == 413
    assert stored(api.world) == 0


def test_api_without_a_file_is_400(api):
    instance_id = mefm_case(api.world)
    response = api.post(
        f"/instances/{instance_id}/attachments", CHIEF_OF_MISSION_HTI, data={}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "file" in response.json["fields"]
    assert upload(api, instance_id, CHIEF_OF_MISSION_HTI, b"").status_code == 400
    assert stored(api.world) == 0


def test_api_another_office_gets_404_for_the_list_the_download_and_an_upload(api):
    instance_id = mefm_case(api.world)
    added = upload(api, instance_id, CHIEF_OF_MISSION_HTI).json
    assert api.get(f"/instances/{instance_id}/attachments", CHIEF_OF_MISSION_PAN).status_code == 404
    assert api.get(f"/attachments/{added['id']}", CHIEF_OF_MISSION_PAN).status_code == 404
    assert upload(api, instance_id, CHIEF_OF_MISSION_PAN).status_code == 404
    assert stored(api.world) == 1


# --- the pages -------------------------------------------------------------------------------------


def signed_in(site, email) -> Client:
    browser = Client(site)
    browser.sign_in(email)
    return browser


def test_the_instance_and_task_pages_list_documents_and_offer_the_upload_form(site, world):
    instance_id = mefm_case(world)
    attachments.add_attachment(world.uow(), world.user(COM), instance_id, Upload("budget.pdf", PDF))
    browser = signed_in(site, COM)
    [task] = instances.get_instance(world.uow(), world.user(COM), instance_id).tasks
    for url in (f"/instances/{instance_id}", f"/tasks/{task.id}"):
        page = browser.get(url).get_data(as_text=True)
        section = page[page.index('class="attachments"') :]
        assert "budget.pdf" in section and "1 KB" in section and "application/pdf" in section
        assert "/attachments/" in section and 'enctype="multipart/form-data"' in section
        assert 'name="csrf_token"' in section and "at most 20 MB" in section


def test_the_upload_form_attaches_and_goes_back_with_a_message(site, world):
    instance_id = mefm_case(world)
    browser = signed_in(site, COM)
    browser.get(f"/instances/{instance_id}")
    back = f"/instances/{instance_id}"
    response = browser.post(
        f"/instances/{instance_id}/attachments", {"file": (io.BytesIO(PDF), "carta.pdf"), "back": back}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(back)
    page = browser.get(back).get_data(as_text=True)
    assert "“carta.pdf” is attached to the case." in page
    [added] = attachments.attachments_of(world.uow(), world.user(COM), instance_id)
    download = browser.get(f"/attachments/{added.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_the_upload_form_goes_back_only_to_a_page_of_this_site(site, world):
    instance_id = mefm_case(world)
    browser = signed_in(site, COM)
    browser.get(f"/instances/{instance_id}")
    data = {"file": (io.BytesIO(PDF), "carta.pdf"), "back": "//evil.example/x"}
    response = browser.post(f"/instances/{instance_id}/attachments", data)
    assert response.headers["Location"].endswith(f"/instances/{instance_id}")


def test_the_upload_form_in_spanish_says_the_file_is_too_large(site, world):
    site.config["MAX_ATTACHMENT_BYTES"] = 10
    instance_id = mefm_case(world)
    browser = signed_in(site, COM)
    browser.post("/language", {"language": "es"})
    browser.get(f"/instances/{instance_id}")
    response = browser.post(f"/instances/{instance_id}/attachments", {"file": (io.BytesIO(PDF), "carta.pdf")})
    assert response.status_code == 413
    assert "no se guardó nada" in response.get_data(as_text=True)
    assert stored(world) == 0


def test_another_office_gets_404_for_the_page_upload_and_download(site, world):
    instance_id = mefm_case(world)
    added = attachments.add_attachment(world.uow(), world.user(COM), instance_id, Upload("budget.pdf", PDF))
    with world.uow() as tx:
        tx.session.get(User, world.user(COM_PAN)).password_hash = hash_password(PASSWORD)
        tx.commit()
    other = signed_in(site, COM_PAN)
    assert other.get(f"/attachments/{added.id}").status_code == 404
    other.get("/")
    assert other.post(f"/instances/{instance_id}/attachments", {"file": (io.BytesIO(PDF), "x.pdf")}).status_code == 404
    assert stored(world) == 1


# --- a task form's file field ----------------------------------------------------------------------


@pytest.fixture
def review_with_files(site, world):
    """The test funding review whose review form has a file field `signed_letter`, at its review."""
    files = diagram("funding_review.bpmn", **{'value="test_review"': 'value="test_review_files"'})
    publishing.publish(world.uow(), files, forms_dir=TEST_FORMS)
    pd = world.user("project-developer@hti.demo")
    instance = instances.start_instance(world.uow(), pd, "funding_review", "HTI", {})
    [draft] = instances.get_instance(world.uow(), pd, instance.id).tasks
    tasks.complete_task(world.uow(), pd, draft.id, {"title": "Bridge", "amount": 50000})
    [review] = instances.get_instance(world.uow(), pd, instance.id).tasks
    return instance.id, review.id


def test_a_file_field_is_a_file_input_in_a_multipart_form(site, world, review_with_files):
    _, task_id = review_with_files
    page = signed_in(site, EFP).get(f"/tasks/{task_id}").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page[page.index('class="task-form"') - 200 :]
    assert 'type="file"' in page and 'name="signed_letter"' in page and "multiple" in page


def test_a_file_chosen_in_the_task_form_becomes_a_document_shown_as_a_link_in_the_answers(
    site, world, review_with_files
):
    instance_id, task_id = review_with_files
    browser = signed_in(site, EFP)
    browser.get(f"/tasks/{task_id}")
    form = {"decision": "recommend", "_action": "complete", "signed_letter": (io.BytesIO(PDF), "signed letter.pdf")}
    response = browser.post(f"/tasks/{task_id}", form)
    assert response.status_code == 302

    [letter] = attachments.attachments_of(world.uow(), world.user(EFP), instance_id)
    assert (letter.name, letter.task_id, letter.field) == ("signed letter.pdf", task_id, "signed_letter")
    page = browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    link = f'<a href="/attachments/{letter.id}" download>signed letter.pdf</a>'
    assert link in page[page.index('class="timeline"') :]  # in the step's answers


def test_a_refused_task_form_keeps_no_file_and_says_to_choose_it_again(site, world, review_with_files):
    instance_id, task_id = review_with_files
    browser = signed_in(site, EFP)
    browser.get(f"/tasks/{task_id}")
    form = {"_action": "complete", "signed_letter": (io.BytesIO(PDF), "letter.pdf")}  # no decision
    response = browser.post(f"/tasks/{task_id}", form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "choose them again" in page and 'id="error-decision"' in page
    assert stored(world) == 0


def test_adding_a_line_keeps_no_file_and_says_to_choose_it_again(site, world, review_with_files):
    _, task_id = review_with_files
    browser = signed_in(site, EFP)
    browser.get(f"/tasks/{task_id}")
    form = {"_add": "lines", "decision": "recommend", "signed_letter": (io.BytesIO(PDF), "letter.pdf")}
    response = browser.post(f"/tasks/{task_id}", form)
    assert response.status_code == 200
    assert "not kept when the line was added: choose them again" in response.get_data(as_text=True)
    assert stored(world) == 0
    without_files = browser.post(f"/tasks/{task_id}", {"_add": "lines", "decision": "recommend"})
    assert "choose them again" not in without_files.get_data(as_text=True)


def test_a_draft_with_a_file_shows_it_ticked_and_completing_keeps_it(site, world, review_with_files):
    instance_id, task_id = review_with_files
    browser = signed_in(site, EFP)
    browser.get(f"/tasks/{task_id}")
    browser.post(f"/tasks/{task_id}", {"_action": "draft", "signed_letter": (io.BytesIO(PDF), "letter.pdf")})
    [letter] = attachments.attachments_of(world.uow(), world.user(EFP), instance_id)
    page = browser.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert f'name="signed_letter" value="{letter.id}" checked' in page
    response = browser.post(
        f"/tasks/{task_id}", {"decision": "recommend", "_action": "complete", "signed_letter": str(letter.id)}
    )
    assert response.status_code == 302
    events = instances.get_instance(world.uow(), world.user(EFP), instance_id).events
    assert [
        e.data["signed_letter"] for e in events if e.kind == "completed_task" and e.title == "Review the request"
    ] == [[letter.id]]
