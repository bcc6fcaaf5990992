"""Cross-field rules and computed totals on the pages: a refused rule re-renders the form with its
message beside the field (in the user's language) and the entries kept; a computed total is shown,
not typed, and the server's sum is what is stored whatever the browser posts."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
from sqlalchemy import select

from engine.org.users import hash_password
from engine.store.models import User
from engine.work import instances, tasks
from tests.web.people import COM, EFP, MEFM, RM, Client
from tests.web.test_formrender import browser_submission
from web.formrender import render_form

FORMS = Path(__file__).resolve().parents[2] / "forms"
PRD, PRD_PASSWORD = "prd@hq.demo", "the PRD's own test password"


def start_form_post(**changes) -> dict:
    """What a browser posts for the Haiti request's start form, with `changes`."""
    schema = json.loads((FORMS / "mefm_request_start.json").read_text(encoding="utf-8"))
    html = render_form(schema, {**MEFM["mefm_request_start"], **changes}, {}, "en")
    return {**browser_submission(html).to_dict(), "office": "HTI"}


def field(page: str, name: str):
    """The field's block (label, messages, control) on a page."""
    tree = lxml.html.fromstring(page)
    return tree.xpath(f'//*[@name="{name}"]/ancestor::div[contains(@class, "field")][1]')[0]


def test_a_request_whose_amount_is_not_its_lines_total_comes_back_with_the_message_beside_the_amount(site):
    browser = Client(site)
    browser.sign_in(COM)
    browser.get("/start/mefm_request")
    refused = browser.post("/start/mefm_request", start_form_post(requested_amount_usd=480_000))
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    amount = field(page, "requested_amount_usd")
    assert "field-error" in amount.get("class")
    message = "The amount requested must equal the sum of the activity costs: USD 500,000."
    assert amount.xpath('.//p[@class="error"]')[0].text_content().endswith(message)
    tree = lxml.html.fromstring(page)
    assert tree.xpath('//*[@name="requested_amount_usd"]')[0].get("value") == "480000"  # the entries kept
    assert tree.xpath('//*[@name="activities.3.cost_usd"]')[0].get("value") == "40000"
    assert tree.xpath('//*[@name="title"]')[0].get("value") == MEFM["mefm_request_start"]["title"]
    total = tree.xpath('//output[@id="field-activities_total_usd"]')[0]
    assert total.text_content() == "500,000" and total.get("data-sum") == "activities[].cost_usd"  # live
    assert "totals.js" in page

    browser.post("/language", {"language": "es", "next": "/"})
    browser.get("/start/mefm_request")
    spanish = browser.post("/start/mefm_request", start_form_post(requested_amount_usd=480_000))
    assert "El monto solicitado debe ser igual a la suma de los costos de las actividades: USD 500\u00a0000." in (
        field(spanish.get_data(as_text=True), "requested_amount_usd").text_content()
    )


def test_the_budget_checks_total_is_shown_not_typed_and_a_forged_one_is_not_stored(site, world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    task = next(t for t in tasks.inbox(world.uow(), world.user(RM)) if t.instance_id == instance.id)
    browser = Client(site)
    browser.sign_in(RM)
    page = browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    tree = lxml.html.fromstring(page)
    total = tree.xpath('//output[@id="field-activities_total_usd"]')[0]
    assert total.text_content() == "500,000" and total.get("data-sum") is None  # the lines are the case's
    assert not tree.xpath('//*[@name="activities_total_usd"]')

    forged = {"budget_check_result": "cleared", "activities_total_usd": "1", "_action": "complete"}
    assert browser.post(f"/tasks/{task.id}", forged).status_code == 302
    assert instances.get_instance(world.uow(), world.user(COM), instance.id).data["activities_total_usd"] == 500_000


def test_a_recommendation_above_the_amount_requested_comes_back_on_the_task_page_in_spanish(site, world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    for who, key in ((RM, "mefm_budget_check"), (COM, "mefm_com_submission"), (EFP, "mefm_regional_review")):
        task = next(t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance.id)
        tasks.complete_task(world.uow(), world.user(who), task.id, MEFM[key])
    task = next(t for t in tasks.inbox(world.uow(), world.user(PRD)) if t.instance_id == instance.id)
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == PRD)).password_hash = hash_password(PRD_PASSWORD)
        uow.commit()
    browser = Client(site)
    browser.sign_in(PRD, PRD_PASSWORD)
    browser.post("/language", {"language": "es", "next": "/"})
    browser.get(f"/tasks/{task.id}")
    answer = {
        **{k: str(v) for k, v in MEFM["mefm_prd_review"].items()},
        "prd_recommendation": "recommend_reduced_amount",
        "prd_recommended_amount_usd": "600000",
        "prd_comments": "Kept while the rule refuses the amount.",
    }
    refused = browser.post(f"/tasks/{task.id}", {**answer, "_action": "complete"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    recommended = field(page, "prd_recommended_amount_usd")
    assert "El monto recomendado no puede superar el monto solicitado: USD 500\u00a0000." in recommended.text_content()
    tree = lxml.html.fromstring(page)
    assert tree.xpath('//*[@name="prd_recommended_amount_usd"]')[0].get("value") == "600000"
    assert "Kept while the rule refuses the amount." in tree.xpath('//*[@name="prd_comments"]')[0].text_content()
    assert [t.id for t in tasks.inbox(world.uow(), world.user(PRD)) if t.instance_id == instance.id] == [task.id]
