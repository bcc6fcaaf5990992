"""The staff side in real headless Chromium: a country office starts an MEFM request, the regional
focal point finds it in the inbox with its SLA state, claims it, is refused on invalid data with
the entries kept, then completes it; the instance page shows the timeline and the diagram; the
same in Spanish; another office gets nothing by URL; and every form works with scripts off."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.work import tasks
from tests.e2e.browser import screenshot
from tests.e2e.conftest import PASSWORD
from tests.processes.scenarios import HAITI_HURRICANE

COM = "chief-of-mission@hti.demo"
RM = "resources-management@hti.demo"
EFP = "emergency-focal-point@ro-americas.demo"
START = HAITI_HURRICANE["mefm"]["mefm_request_start"]


def sign_in(page, email: str):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))


def sign_out(page):
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r".*/login$"))


def fill_mefm_start(page):
    page.fill("#field-title", START["title"])
    page.select_option("#field-crisis_type", START["crisis_type"])
    page.fill("#field-onset_date", START["onset_date"])
    page.check(f"input[name=emergency_level][value={START['emergency_level']}]")
    page.fill("#field-people_affected", str(START["people_affected"]))
    page.fill("#field-people_targeted", str(START["people_targeted"]))
    page.fill("#field-requested_amount_usd", str(START["requested_amount_usd"]))
    page.fill("#field-bridge_duration_days", str(START["bridge_duration_days"]))
    first = START["activities"][0]
    page.select_option("#field-activities-0-sector", first["sector"])
    page.fill("#field-activities-0-activity", first["activity"])
    page.fill("#field-activities-0-cost_usd", str(first["cost_usd"]))
    for row, line in enumerate(START["activities"][1:], start=1):  # "Add a line": the amount is their sum
        page.click("button[name=_add][value=activities]")
        page.select_option(f"#field-activities-{row}-sector", line["sector"])
        page.fill(f"#field-activities-{row}-activity", line["activity"])
        page.fill(f"#field-activities-{row}-cost_usd", str(line["cost_usd"]))
    page.check(f"input[name=repayment_source][value={START['repayment_source']}]")
    page.fill("#field-repayment_source_name", START["repayment_source_name"])
    page.fill("#field-expected_repayment_date", START["expected_repayment_date"])
    page.fill("#field-justification", START["justification"])


def submitted_by_the_country_office(world, instance_id: int):
    """Resources Management checks the budget and the Chief of Mission signs (engine API: the
    browser part of this test is the regional review)."""
    for who, data in (
        (RM, {"activities_total_usd": 260_000, "budget_check_result": "cleared"}),
        (COM, {"com_confirmation": True}),
    ):
        task = [t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance_id][0]
        tasks.complete_task(world.uow(), world.user(who), task.id, data)


def test_a_request_goes_from_the_country_office_to_the_regional_review_in_the_browser(world, open_page):
    page = open_page()
    sign_in(page, COM)
    page.click("nav a[href='/start']")
    page.click("a[href='/start/mefm_request']")
    fill_mefm_start(page)
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    instance_id = int(page.url.rsplit("/", 1)[1])
    assert page.locator("h1").inner_text() == START["title"]
    assert "Check the budget" in page.locator("ul.now").inner_text()
    sign_out(page)

    submitted_by_the_country_office(world, instance_id)
    world.clock.advance(hours=20)  # 28 of the 48 hours are left: not yet "due soon"

    sign_in(page, EFP)
    row = page.locator("table.inbox tr", has_text=START["title"])
    assert row.count() == 1
    assert "Review the request for the region" in row.inner_text() and "HTI" in row.inner_text()
    assert row.locator(".sla-ok").inner_text() == "28 hours left"  # hours, not "1 day", under 3 days
    screenshot(page, "inbox")
    row.locator("button", has_text="Claim").click()
    page.wait_for_url(re.compile(r".*/tasks/[0-9a-f-]+$"))
    assert "held by Emergency Focal Point" in page.locator(".meta").first.inner_text()

    page.check("input[name=regional_recommendation][value=recommend_rejection]")
    page.click("form.task-form button.primary")
    error = page.locator("#field-regional_comments").locator("xpath=ancestor::*[contains(@class,'field')][1]")
    assert "This field is required." in error.inner_text()
    assert page.locator("input[name=regional_recommendation][value=recommend_rejection]").is_checked()
    assert page.locator("#field-regional_comments").get_attribute("aria-invalid") == "true"
    screenshot(page, "task-with-errors")

    page.check("input[name=regional_recommendation][value=recommend]")
    page.fill("#field-regional_comments", "Linked to EPPE-HTI-2025-014; the office has the staff to spend it.")
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/$"))
    assert "is done" in page.locator(".flash").inner_text()

    page.goto(f"/instances/{instance_id}")
    timeline = page.locator("ol.timeline").inner_text()
    for step in ("Check the budget", "Sign and submit the request", "Review the request for the region"):
        assert step in timeline
    assert "→ Recommend" in timeline  # the option's label, not its code
    assert "Check the fund balance and recommend" in page.locator("ul.now").inner_text()
    page.wait_for_selector(".diagram[data-ready=true]")
    assert page.locator("g.djs-element.active[data-element-id=prd_review]").count() == 1
    assert page.locator("g.djs-element.done[data-element-id=regional_review]").count() == 1
    screenshot(page, "instance")


def test_the_same_pages_in_spanish(world, open_page):
    page = open_page()
    sign_in(page, COM)
    page.click("button[name=language][value=es]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Bandeja de entrada"
    page.goto("/start/mefm_request")
    assert "Título de la solicitud" in page.locator("label[for=field-title]").inner_text()
    fill_mefm_start(page)
    page.fill("#field-requested_amount_usd", "10")
    page.click("form.task-form button.primary")
    assert "Debe ser al menos 1000." in page.content() or "Must be at least 1000." in page.content()
    screenshot(page, "start-form-es")


def test_another_office_gets_nothing_by_url(world, open_page):
    page = open_page()
    sign_in(page, COM)
    page.goto("/start/mefm_request")
    fill_mefm_start(page)
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    instance_url = page.url
    task_url = page.locator("ul.now a").first.get_attribute("href")
    sign_out(page)

    sign_in(page, "chief-of-mission@pan.demo")
    for url in (instance_url, task_url, instance_url + "/diagram"):
        response = page.goto(url)
        assert response.status == 404, url
    assert START["title"] not in page.content()


def test_a_task_is_completed_with_javascript_off_and_the_inbox_weighs_under_50_kb(world, open_page):
    page = open_page(javascript=False)
    sign_in(page, COM)
    page.goto("/start/mefm_request")
    fill_mefm_start(page)  # its "Add a line" clicks work without scripts
    assert page.locator("#field-activities-3-cost_usd").input_value() == str(START["activities"][3]["cost_usd"])
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    instance_id = int(page.url.rsplit("/", 1)[1])
    submitted_by_the_country_office(world, instance_id)
    sign_out(page)

    sign_in(page, EFP)
    sizes = {}
    page.on("response", lambda response: sizes.__setitem__(response.url, len(response.body())))
    page.goto("/")
    assert sum(sizes.values()) <= 50 * 1024, sizes
    page.locator("table.inbox tr", has_text=START["title"]).locator("a").first.click()
    page.check("input[name=regional_recommendation][value=recommend]")
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/$"))
    view = [t for t in tasks.inbox(world.uow(), world.user("prd@hq.demo")) if t.instance_id == instance_id]
    assert [t.title for t in view] == ["Check the fund balance and recommend"]
    assert view[0].due_at == world.clock.now() + timedelta(hours=48)
