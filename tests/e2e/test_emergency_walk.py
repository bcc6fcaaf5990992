"""Issue 14's acceptance in real Chromium: the Regional Director declares an emergency; the Chief of
Mission starts an MEFM request for it (the level, type of crisis and onset date come from the
emergency); the case is listed under the emergency, a word of its title finds it, and the XLSX
export of that search, opened with openpyxl, holds its row. After a breach (the clock moved past the
48 hours) the SLA report counts it as breached, and another case decided in time as within."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from engine.scheduling import ticker
from engine.work import instances, tasks
from tests.e2e.browser import screenshot
from tests.e2e.test_staff_pages import START, sign_in, sign_out
from tests.processes.scenarios import HAITI_HURRICANE
from web.security import limiter

COM, DIRECTOR = "chief-of-mission@hti.demo", "regional-director@ro-americas.demo"
MEFM = HAITI_HURRICANE["mefm"]
TITLE = "Tropical storm Zeta – shelter kits for Jérémie"


def declare(page) -> int:
    page.goto("/emergencies")
    page.select_option("#new-office", "HTI")
    page.fill("#new-name", "Tropical storm Zeta")
    page.select_option("#new-crisis", START["crisis_type"])
    page.check("input[name=level][value=L3]")
    page.fill("#new-onset", START["onset_date"])
    page.click("form[action='/emergencies'] button.primary")
    page.wait_for_url(re.compile(r".*/emergencies/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def start_for(page, emergency_id: int) -> int:
    page.goto("/start/mefm_request")
    page.select_option("select[name=emergency_id]", str(emergency_id))
    page.click("form.emergency-choice button")
    page.wait_for_selector("input[type=hidden][name=emergency_id]", state="attached")
    assert page.locator("#field-emergency_level").count() == 0  # read from the emergency, not asked again
    assert "(L3)" in page.locator(".emergency-facts").inner_text()
    page.fill("#field-title", TITLE)
    for name in ("people_affected", "people_targeted", "bridge_duration_days"):
        page.fill(f"#field-{name}", str(START[name]))
    line = START["activities"][0]
    page.select_option("#field-activities-0-sector", line["sector"])
    page.fill("#field-activities-0-activity", line["activity"])
    page.fill("#field-activities-0-cost_usd", str(line["cost_usd"]))
    page.fill("#field-requested_amount_usd", str(line["cost_usd"]))  # one line: the amount is its cost
    page.check(f"input[name=repayment_source][value={START['repayment_source']}]")
    for name in ("repayment_source_name", "expected_repayment_date", "justification"):
        page.fill(f"#field-{name}", str(START[name]))
    page.click("form.task-form button.primary")
    page.wait_for_load_state()
    assert re.search(r"/instances/\d+$", page.url), page.locator("main").inner_text()
    return int(page.url.rsplit("/", 1)[1])


def complete(world, who: str, case_id: int, data: dict) -> None:
    [task] = [t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == case_id]
    tasks.complete_task(world.uow(), world.user(who), task.id, data)


def submit(world, case_id: int) -> None:
    complete(world, "resources-management@hti.demo", case_id, MEFM["mefm_budget_check"])
    complete(world, COM, case_id, MEFM["mefm_com_submission"])


def decide(world, case_id: int) -> None:
    complete(world, "mefm-approver@hq.demo", case_id, MEFM["mefm_decision"])


def review(world, case_id: int) -> None:
    complete(world, "emergency-focal-point@ro-americas.demo", case_id, MEFM["mefm_regional_review"])
    complete(world, "prd@hq.demo", case_id, MEFM["mefm_prd_review"])


def test_an_emergency_its_mefm_request_the_list_the_export_and_the_report(world, live, open_page):
    page = open_page()
    sign_in(page, DIRECTOR)
    emergency_id = declare(page)
    sign_out(page)
    limiter(live.server.app).reset()

    sign_in(page, COM)
    late = start_for(page, emergency_id)
    reference = instances.get_instance(world.uow(), world.user(COM), late).reference
    assert re.fullmatch(r"MEFM-HTI-\d{4}-\d{4}", reference)
    assert reference in page.locator("main").inner_text()

    page.goto(f"/cases?emergency={emergency_id}")
    rows = page.locator("table.cases tbody tr")
    assert rows.count() == 1 and TITLE in rows.first.inner_text() and reference in rows.first.inner_text()
    page.goto("/cases?q=jeremie")  # a word of its title, typed without its accent
    assert page.locator("table.cases tbody tr").count() == 1
    screenshot(page, "emergency-walk-cases")
    with page.expect_download() as exported:
        page.click("a[href*='export.xlsx']")
    sheet = load_workbook(io.BytesIO(open(exported.value.path(), "rb").read()), read_only=True).active
    cells = [[str(cell) for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    assert len(cells) == 2 and reference in cells[1] and TITLE in cells[1], cells
    sign_out(page)

    page.goto(f"/emergencies/{emergency_id}")  # signed out: the sign-in page first
    sign_in(page, DIRECTOR)
    page.goto(f"/emergencies/{emergency_id}")
    assert reference in page.locator("main").inner_text()

    in_time = instances.start_instance(
        world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"]
    ).id
    submit(world, in_time)
    review(world, in_time)
    decide(world, in_time)
    submit(world, late)
    world.clock.advance(hours=48, seconds=1)  # time moved by the clock: the late request's escalation fires
    ticker.tick(world.db, world.clock)
    decide(world, late)  # by the escalated decision that replaced the reviews

    page.goto("/reports?process=mefm_request&office=HTI")
    cells = page.locator("#t-compliance tbody tr td").all_inner_texts()
    assert cells[1:2] == ["HTI"] and cells[3:6] == ["2", "1", "1"], cells  # decided, within the SLA, breached
    screenshot(page, "emergency-walk-report")
