"""In the browser, without JavaScript: the Regional Director declares an emergency for Haiti, the
Chief of Mission starts an MEFM request for it (the form stops asking its level), and the case is
listed on the emergency's page under its process, with its reference."""

from __future__ import annotations

import re

from tests.e2e.test_staff_pages import START, sign_in, sign_out

DIRECTOR = "regional-director@ro-americas.demo"
COM = "chief-of-mission@hti.demo"


def test_the_director_declares_and_the_chief_of_mission_starts_a_case_for_the_emergency(world, open_page):
    page = open_page(javascript=False)
    sign_in(page, DIRECTOR)
    page.click("nav a[href='/emergencies']")
    page.select_option("#new-office", "HTI")
    page.fill("#new-name", "Hurricane Marisol")
    page.select_option("#new-crisis", "hurricane_tropical_storm")
    page.check("input[name=level][value=L3]")
    page.fill("#new-onset", "2025-09-14")
    page.click("section.declare button.primary")
    page.wait_for_url(re.compile(r".*/emergencies/\d+$"))
    emergency_url = page.url
    assert "EM-HTI-2026-0001" in page.locator("p.meta").inner_text()
    sign_out(page)

    sign_in(page, COM)
    page.goto("/start/mefm_request")
    page.select_option("select[name=emergency_id]", index=1)  # the one active emergency of Haiti
    page.click("form.emergency-choice button")
    assert page.locator("#field-emergency_level").count() == 0  # the emergency says it
    assert "L3" in page.locator("p.emergency-facts").inner_text()
    page.fill("#field-title", START["title"])
    for field in ("people_affected", "people_targeted", "requested_amount_usd", "bridge_duration_days"):
        page.fill(f"#field-{field}", str(START[field]))
    first = START["activities"][0]
    page.select_option("#field-activities-0-sector", first["sector"])
    page.fill("#field-activities-0-activity", first["activity"])
    page.fill("#field-activities-0-cost_usd", str(START["requested_amount_usd"]))
    page.check(f"input[name=repayment_source][value={START['repayment_source']}]")
    page.fill("#field-repayment_source_name", START["repayment_source_name"])
    page.fill("#field-expected_repayment_date", START["expected_repayment_date"])
    page.fill("#field-justification", START["justification"])
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/(instances|tasks)/[^/]+$"))
    page.goto(emergency_url)
    listed = page.locator("ul.now").inner_text()
    assert "MEFM-HTI-2026-0001" in listed and START["title"] in listed
