"""The SLA report in real Chromium: its SVG charts load as images under the pages'
Content-Security-Policy with no violation reported, with JavaScript and without it. Screenshot in
test-artifacts/screenshots/reports.png."""

from __future__ import annotations

import re

from engine.scheduling import ticker
from engine.store.models import CaseDecision
from engine.work import instances, tasks
from tests.e2e.browser import screenshot
from tests.e2e.conftest import PASSWORD
from tests.processes.scenarios import HAITI_HURRICANE

COM, DIRECTOR = "chief-of-mission@hti.demo", "regional-director@ro-americas.demo"
# Registered before any page script: every violation the page reports, whatever blocked it.
LISTEN = """window.__violations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


def decided_cases(world) -> None:
    start = HAITI_HURRICANE["mefm"]["mefm_request_start"]
    for hours, breached in ((6, False), (30, False), (70, True)):
        case = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", start)
        with world.uow() as uow:
            uow.session.add(
                CaseDecision(
                    instance_id=case.id,
                    process_id="mefm_request",
                    office_code="HTI",
                    decided_at=world.clock.now(),
                    hours=hours,
                    breached=breached,
                    outcome="approved",
                )
            )
            uow.commit()


def signed_in(browser, live, javascript: bool):
    context = browser.new_context(base_url=live.url, java_script_enabled=javascript, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", DIRECTOR)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))
    return context, page


def test_the_charts_load_as_images_with_no_policy_violation(world, browser, live):
    decided_cases(world)
    context, page = signed_in(browser, live, javascript=True)
    page.add_init_script(LISTEN)
    console = []
    page.on("console", lambda message: console.append(message.text))
    charts = []
    page.on("response", lambda r: charts.append((r.status, r.headers.get("content-type"))) if ".svg" in r.url else None)
    page.goto("/reports")
    page.wait_for_load_state("networkidle")
    loaded = page.evaluate(
        "[...document.querySelectorAll('figure img')].map((img) => img.complete && img.naturalWidth)"
    )
    assert loaded == [720, 720, 720, 720]
    assert charts == [(200, "image/svg+xml; charset=utf-8")] * 4
    assert page.evaluate("window.__violations") == []
    assert not [text for text in console if "Content Security Policy" in text]
    assert page.locator("#t-compliance tbody tr").count() == 1
    screenshot(page, "reports")
    context.close()


def test_the_report_and_its_charts_work_without_javascript(world, browser, live):
    decided_cases(world)
    context, page = signed_in(browser, live, javascript=False)
    charts = []
    page.on("response", lambda r: charts.append(r.status) if ".svg" in r.url else None)
    page.goto("/reports?office=HTI")
    page.wait_for_load_state("networkidle")
    assert charts == [200, 200, 200, 200]
    assert "3 decided, 2 within the SLA, 1 breached" in page.content()
    context.close()


def test_the_heat_overlay_shows_the_median_hours_on_the_steps_of_the_diagram(world, browser, live):
    start = HAITI_HURRICANE["mefm"]["mefm_request_start"]
    case = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", start)
    world.clock.advance(hours=5)
    rm = world.user("resources-management@hti.demo")
    [task] = [t for t in tasks.inbox(world.uow(), rm) if t.instance_id == case.id]
    tasks.complete_task(world.uow(), rm, task.id, HAITI_HURRICANE["mefm"]["mefm_budget_check"])
    context, page = signed_in(browser, live, javascript=True)
    page.add_init_script(LISTEN)
    page.goto(f"/instances/{case.id}")
    page.wait_for_selector(".diagram[data-ready]")
    page.click("button[data-heat]")
    page.wait_for_selector(".diagram[data-heat-shown]")
    assert page.locator(".diagram .heat").all_inner_texts() == ["5 h"]
    assert page.get_attribute("button[data-heat]", "aria-pressed") == "true"
    assert page.evaluate("window.__violations") == []
    screenshot(page, "diagram-heat")
    page.click("button[data-heat]")
    assert page.locator(".diagram .heat").count() == 0
    context.close()


def test_after_a_breach_the_report_shows_it_breached_and_the_case_decided_in_time_within(world, browser, live):
    mefm = HAITI_HURRICANE["mefm"]

    def complete(who: str, case_id: int, data: dict) -> None:
        [task] = [t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == case_id]
        tasks.complete_task(world.uow(), world.user(who), task.id, data)

    def submitted() -> int:
        case = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", mefm["mefm_request_start"])
        complete("resources-management@hti.demo", case.id, mefm["mefm_budget_check"])
        complete(COM, case.id, mefm["mefm_com_submission"])
        return case.id

    in_time = submitted()
    complete("emergency-focal-point@ro-americas.demo", in_time, mefm["mefm_regional_review"])
    complete("prd@hq.demo", in_time, mefm["mefm_prd_review"])
    complete("mefm-approver@hq.demo", in_time, mefm["mefm_decision"])
    late = submitted()
    world.clock.advance(hours=48, seconds=1)  # time moved by the clock: the escalation fires
    ticker.tick(world.db, world.clock)
    context, page = signed_in(browser, live, javascript=False)
    page.goto("/reports?process=mefm_request")
    assert "1 breaches open now" in page.content()
    complete("mefm-approver@hq.demo", late, mefm["mefm_decision"])
    page.goto("/reports?process=mefm_request")
    cells = page.locator("#t-compliance tbody tr td").all_inner_texts()
    assert cells[1:6] == ["HTI", "2026-11", "2", "1", "1"]  # decided, within the SLA, breached
    assert "0 breaches open now" in page.content()
    context.close()
