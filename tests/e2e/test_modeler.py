"""The manager side in headless Chromium: a Process Manager opens the MEFM diagram in the modeler,
changes the 48-hour SLA to 36 hours, sees the validation error pointed at the element when the timer
text is broken, fixes it, dry-runs it (the escalation shows at 36 h), publishes version 2; a new
instance runs on version 2 while an instance started on version 1 keeps 48 hours; the diff shows it."""

from __future__ import annotations

import re
from datetime import timedelta

from engine.work import instances, tasks
from tests.e2e.browser import screenshot
from tests.e2e.test_staff_pages import sign_in
from tests.processes.scenarios import HAITI_HURRICANE

MANAGER = "process-manager@hq.demo"
COM, RM = "chief-of-mission@hti.demo", "resources-management@hti.demo"
MEFM = HAITI_HURRICANE["mefm"]
TIMER = "#prop-timer-duration-iso-8601-"


def submitted(world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    for who, data in ((RM, MEFM["mefm_budget_check"]), (COM, MEFM["mefm_com_submission"])):
        task = next(t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance.id)
        tasks.complete_task(world.uow(), world.user(who), task.id, data)
    return instance


def review_due(world, instance_id):
    return instances.get_instance(world.uow(), world.user(COM), instance_id).tasks[0].due_at


def save(page) -> str:
    before = page.get_attribute("#modeler-app", "data-saved")
    page.click("#save")
    page.wait_for_function(
        "before => document.querySelector('#modeler-app').getAttribute('data-saved') !== before", arg=before
    )
    return page.inner_text("#save-state")


def test_a_manager_changes_the_mefm_sla_to_36_hours_and_publishes_version_2(world, open_page):
    on_version_1 = submitted(world)
    page = open_page()
    sign_in(page, MANAGER)
    page.click("nav a[href='/modeler/']")
    page.locator("tr", has_text="mefm_request").locator("button", has_text="Edit").click()
    page.wait_for_selector("#modeler-app[data-ready=true]")

    page.locator('g.djs-element[data-element-id="escalate_after_48h"]').click(force=True)
    assert page.input_value(TIMER) == "PT48H"
    page.fill(TIMER, "PT36 hours")
    page.locator(TIMER).blur()
    assert "1 error" in save(page)
    problem = page.locator("#problems li.problem-error")
    assert "escalate_after_48h" in problem.inner_text()
    assert page.locator('g.djs-element.problem-error[data-element-id="escalate_after_48h"]').count() == 1
    assert page.is_disabled("#publish")
    screenshot(page, "modeler-error")

    problem.click()  # the problem takes the manager to its element
    page.fill(TIMER, "PT36H")
    page.locator(TIMER).blur()
    assert "No errors" in save(page)
    assert page.is_enabled("#publish")

    page.fill("#dryrun-script", "complete until timer\nwait PT35H")
    page.click("#dryrun")
    page.wait_for_selector("#dryrun-result[data-ready=true]")
    assert "escalation" not in page.inner_text("#dryrun-result")
    page.evaluate("document.querySelector('#dryrun-result').removeAttribute('data-ready')")
    page.fill("#dryrun-script", "complete until timer\nwait PT36H")
    page.click("#dryrun")
    page.wait_for_selector("#dryrun-result[data-ready=true]")
    result = page.inner_text("#dryrun-result")
    assert "escalation: 48 hours without a decision" in result and "Escalated decision" in result
    screenshot(page, "modeler-dry-run")

    page.click("#publish")
    page.wait_for_url(re.compile(r".*/modeler/processes/mefm_request/versions$"))
    assert "Published as version 2." in page.inner_text(".flash")
    on_version_2 = submitted(world)
    assert instances.get_instance(world.uow(), world.user(COM), on_version_2.id).version == 2
    assert review_due(world, on_version_2.id) == world.clock.now() + timedelta(hours=36)
    assert review_due(world, on_version_1.id) == world.clock.now() + timedelta(hours=48)

    page.click("text=changes from version 1")
    changes = page.inner_text("ul.changes")
    assert "escalate_after_48h" in changes and "PT48H" in changes and "PT36H" in changes
    page.wait_for_selector("#diff-diagram[data-ready=true]")
    assert page.locator('g.djs-element.changed[data-element-id="escalate_after_48h"]').count() == 1
    screenshot(page, "modeler-diff")


def test_the_decision_table_opens_in_dmn_js_and_saves_back_checked(world, open_page):
    page = open_page()
    sign_in(page, MANAGER)
    page.goto("/modeler/")
    page.locator("tr", has_text="mefm_request").locator("button", has_text="Edit").click()
    page.wait_for_selector("#modeler-app[data-ready=true]")
    page.click("text=mefm_approval_authority.dmn")
    page.wait_for_selector("#decision-app[data-ready=true]")
    table = page.locator(".tjs-table")
    assert table.count() == 1 and table.locator("tbody tr").count() >= 4
    assert page.locator(".bjs-powered-by, .powered-by-logo, a[href*='bpmn.io']").count() >= 1  # the licence's logo
    page.click("#save-decision")
    page.wait_for_selector("#decision-app[data-saved]")
    assert "No errors" in page.inner_text("#save-state")
    screenshot(page, "modeler-decision-table")
