"""An MEFM request walked through every role in real Chromium: the Chief of Mission starts it, and
on each task page that follows (budget check, signature, regional review, PRD, the decision,
Finance; then the advance waits for its repayment) the person who acts sees the request's
title and amount before answering anything.
A screenshot of every step lands in test-artifacts/screenshots/case-walk-*.png."""

from __future__ import annotations

import re

from engine.org import offices as org
from engine.work import instances
from tests.e2e.browser import screenshot
from tests.e2e.test_staff_pages import COM, START, fill_mefm_start, sign_in, sign_out
from tests.processes.scenarios import HAITI_HURRICANE
from web.security import limiter

MEFM = HAITI_HURRICANE["mefm"]
AMOUNT = "500,000"


def holder_of(world, task) -> str:
    """A demo user who may take the open task (the role's holder in the office that holds it)."""
    with world.uow() as uow:
        people = org.holders(uow.session, task.candidate_role, task.candidate_office)
        return sorted(user.email for user in people)[0]


def fill(page, data: dict) -> None:
    """Answer a task form from the scenario's data, field by field, as a person would."""
    for name, value in data.items():
        field = page.locator(f"form.task-form [name='{name}']")
        if field.count() == 0:
            continue  # shown read-only or computed by the server
        kind = field.first.evaluate("e => e.tagName.toLowerCase() + ':' + (e.type || '')")
        if kind == "input:radio":
            page.check(f"form.task-form input[name='{name}'][value='{value}']")
        elif kind == "input:checkbox":
            field.first.set_checked(bool(value))
        elif kind.startswith("select"):
            field.first.select_option(str(value))
        else:
            field.first.fill(str(value))


def test_every_role_sees_the_request_before_answering(world, live, open_page):
    page = open_page()
    sign_in(page, COM)
    page.goto("/start/mefm_request")
    fill_mefm_start(page)
    page.click("form.task-form button.primary")
    page.wait_for_url(re.compile(r".*/instances/\d+$"))
    instance_id = int(page.url.rsplit("/", 1)[1])
    sign_out(page)

    walked = []
    while True:
        open_tasks = instances.get_instance(world.uow(), world.user(COM), instance_id).tasks
        if not open_tasks:
            break
        task = open_tasks[0]
        if task.form_key == "mefm_repayment":
            break  # the advance is out: its repayment is recorded weeks later
        who = holder_of(world, task) if task.candidate_role else COM
        # Six people on six machines: one address here, so the sign-in throttle starts afresh for each.
        limiter(live.server.app).reset()
        sign_in(page, who)
        page.goto(f"/tasks/{task.id}")
        summary = page.locator(".case-summary").inner_text()
        assert START["title"] in summary and AMOUNT in summary, (task.title, summary)
        assert "Hurricane or tropical storm" in summary and "hurricane_tropical_storm" not in summary
        page.wait_for_selector(".diagram[data-ready=true]")
        screenshot(page, f"case-walk-{len(walked) + 1}-{task.form_key or task.element_id}")
        fill(page, MEFM.get(task.form_key, {}))
        page.click("form.task-form button.primary")
        page.wait_for_url(re.compile(r".*/(tasks/[0-9a-f-]+)?$"))
        assert page.locator(".flash-error").count() == 0, page.locator("main").inner_text()
        walked.append((task.form_key, task.candidate_role or "starter"))
        sign_out(page)
        assert len(walked) < 12, [key for key, _ in walked]

    assert [key for key, _ in walked] == [
        "mefm_budget_check",
        "mefm_com_submission",
        "mefm_regional_review",
        "mefm_prd_review",
        "mefm_decision",
        "mefm_finance_allocation",
    ]
    assert len({role for _, role in walked}) == 6, walked  # six roles, each saw the request
    final = instances.get_instance(world.uow(), world.user(COM), instance_id)
    assert final.status == "running" and [t.form_key for t in final.tasks] == ["mefm_repayment"]
