"""The staff pages on a phone (390 px wide) in real Chromium: the inbox's rows are stacked cards
with every field inside the screen, and no staff page scrolls sideways. Screenshots in
test-artifacts/screenshots/ (inbox-390.png, task-390.png, instance-390.png, start-390.png,
cases-390.png)."""

from __future__ import annotations

import re

from engine.work import instances, tasks
from tests.e2e.browser import screenshot
from tests.e2e.conftest import PASSWORD
from tests.processes.scenarios import HAITI_HURRICANE

PHONE = {"width": 390, "height": 844}
COM, RM = "chief-of-mission@hti.demo", "resources-management@hti.demo"
EFP = "emergency-focal-point@ro-americas.demo"
MEFM = HAITI_HURRICANE["mefm"]


def at_regional_review(world, title: str) -> int:
    start = {**MEFM["mefm_request_start"], "title": title}
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", start)
    for who, data in ((RM, MEFM["mefm_budget_check"]), (COM, MEFM["mefm_com_submission"])):
        task = next(t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance.id)
        tasks.complete_task(world.uow(), world.user(who), task.id, data)
    return instance.id


def phone_page(browser, live, email: str):
    context = browser.new_context(base_url=live.url, viewport=PHONE, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button.primary")
    page.wait_for_url(re.compile(r".*/(\?.*)?$"))
    return context, page


def sideways(page) -> tuple[int, int]:
    return page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")


def outside(page, selector: str) -> list[str]:
    """The elements matching `selector` that reach beyond the left or right edge of the screen."""
    return page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter((el) => { const r = el.getBoundingClientRect();
                              return r.width === 0 || r.left < 0 || r.right > window.innerWidth + 0.5; })
            .map((el) => el.outerHTML.slice(0, 120))""",
        selector,
    )


def test_the_inbox_on_a_phone_is_stacked_cards_with_every_field_on_screen(world, browser, live):
    for title in (
        "Hurricane Marisol – bridge funding for shelter, NFI and CCCM in Sud and Grand'Anse",
        "Cholera response in the Artibonite – water trucking and treatment centres",
    ):
        at_regional_review(world, title)
    world.clock.advance(hours=40)  # one is due soon: the SLA badge shows its longest text
    context, page = phone_page(browser, live, EFP)
    try:
        rows = page.locator("table.inbox tbody tr")
        assert rows.count() == 2
        screenshot(page, "inbox-390")
        width, visible = sideways(page)
        assert width <= visible, f"the inbox scrolls sideways: {width} > {visible}"
        assert outside(page, "table.inbox tbody td") == []
        assert outside(page, "table.inbox tbody td > :not(br)") == []
        first = rows.first
        for label in ("Due", "Step", "Case", "Office", "Waiting"):
            assert first.locator(f"td[data-label='{label}']").is_visible()
        assert first.locator("td[data-label='Office']").inner_text() == "HTI"
        assert first.locator("button", has_text="Claim").is_visible()
        boxes = [rows.nth(i).bounding_box() for i in range(2)]
        assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"]  # cards, one under the other
    finally:
        context.close()


def test_the_task_instance_and_start_pages_do_not_scroll_sideways_on_a_phone(world, browser, live):
    instance_id = at_regional_review(world, MEFM["mefm_request_start"]["title"])
    [task] = [t for t in tasks.inbox(world.uow(), world.user(EFP)) if t.instance_id == instance_id]
    context, page = phone_page(browser, live, EFP)
    try:
        for name, url in (("task-390", f"/tasks/{task.id}"), ("instance-390", f"/instances/{instance_id}")):
            page.goto(url)
            page.wait_for_selector(".diagram[data-ready=true]")
            screenshot(page, name)
            width, visible = sideways(page)
            assert width <= visible, f"{url} scrolls sideways: {width} > {visible}"
    finally:
        context.close()
    context, page = phone_page(browser, live, COM)
    try:
        page.goto("/start/mefm_request")
        screenshot(page, "start-390")
        width, visible = sideways(page)
        assert width <= visible, f"the start form scrolls sideways: {width} > {visible}"
        assert outside(page, "form.task-form button") == []
    finally:
        context.close()


def test_the_case_list_on_a_phone_is_stacked_cards_with_every_field_on_screen(world, browser, live):
    for title in (
        "Hurricane Marisol – bridge funding for shelter, NFI and CCCM in Sud and Grand'Anse",
        "Cholera response in the Artibonite – water trucking and treatment centres",
    ):
        at_regional_review(world, title)
    context, page = phone_page(browser, live, EFP)
    try:
        page.goto("/cases")
        rows = page.locator("table.cases tbody tr")
        assert rows.count() == 2
        screenshot(page, "cases-390")
        width, visible = sideways(page)
        assert width <= visible, f"the case list scrolls sideways: {width} > {visible}"
        assert outside(page, "table.cases tbody td") == []
        assert outside(page, "form.filters input, form.filters select") == []
        for label in ("Reference", "Case", "Office", "Status", "SLA", "Current holder", "Started", "Last change"):
            assert rows.first.locator(f"td[data-label='{label}']").is_visible()
        boxes = [rows.nth(i).bounding_box() for i in range(2)]
        assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"]  # cards, one under the other
    finally:
        context.close()
