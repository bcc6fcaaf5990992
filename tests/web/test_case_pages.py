"""The case as the people who decide it see it: the request's facts on every task page, read-only
pages for those who may look but not act, the timeline in words, a return's reason at the top of
the revision, breaches at a glance."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from engine.org.users import hash_password
from engine.store.models import User
from engine.work import instances, tasks
from tests.processes.conftest import tick_at
from tests.web.people import COM, DIRECTOR, EFP, MEFM, PASSWORD, RM, Client
from tests.web.test_pages import at_regional_review

TITLE = MEFM["mefm_request_start"]["title"]


def signed_in(site, email) -> Client:
    browser = Client(site)
    browser.sign_in(email)
    return browser


def text(response) -> str:
    return response.get_data(as_text=True)


def test_the_budget_check_shows_the_request_with_labels_before_any_answer(site, world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    [check] = instances.get_instance(world.uow(), world.user(COM), instance.id).tasks
    page = text(signed_in(site, RM).get(f"/tasks/{check.id}"))
    summary = page[page.index('class="case-summary"') : page.index('class="split"')]
    assert TITLE.replace("'", "&#39;") in summary
    assert "Amount requested (USD)" in summary and "500,000" in summary
    assert "Hurricane or tropical storm" in summary and "hurricane_tropical_storm" not in summary
    assert "Shelter and non-food items (NFI)" in summary  # an activity line, with its sector's label
    assert "unclaimed: Resources Management, HTI" in page
    assert "This is the first step" not in page and "Earlier answers" in page


def test_the_summary_is_in_the_readers_language(site, world):
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == RM)).language = "es"
        uow.commit()
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    [check] = instances.get_instance(world.uow(), world.user(COM), instance.id).tasks
    page = text(signed_in(site, RM).get(f"/tasks/{check.id}"))
    assert "Monto solicitado (USD)" in page and "500\u00a0000" in page and "Huracán o tormenta tropical" in page


def test_an_approver_role_held_at_headquarters_is_named_with_its_office(site, world):
    instance, review = at_regional_review(world)
    page = text(signed_in(site, DIRECTOR).get(f"/instances/{instance.id}"))
    assert "unclaimed: Emergency Focal Point, RO-AMERICAS" in page


def test_who_may_look_but_not_act_gets_no_form_and_is_told_why(site, world):
    _, review = at_regional_review(world)
    page = text(signed_in(site, DIRECTOR).get(f"/tasks/{review.id}"))
    assert "You can read it but not act on it" in page
    assert 'value="complete"' not in page and 'value="draft"' not in page and "Claim this task" not in page
    assert TITLE.replace("'", "&#39;") in page  # the facts are there all the same
    own = text(signed_in(site, EFP).get(f"/tasks/{review.id}"))
    assert 'value="complete"' in own and "You can read it" not in own


def test_a_refusal_that_happens_anyway_keeps_the_entries_and_says_why(site, world):
    instance, review = at_regional_review(world)
    browser = signed_in(site, RM)
    browser.get(f"/tasks/{review.id}")
    entries = {"regional_recommendation": "recommend", "regional_comments": "Typed before the page went stale."}
    response = browser.post(f"/tasks/{review.id}", {**entries, "_action": "complete"})
    page = text(response)
    assert response.status_code == 403 and "Nothing was saved" in page
    assert "Typed before the page went stale." in page and "Your entries (not saved)" in page
    assert tasks.get_task(world.uow(), world.user(EFP), review.id).state == "open"


def test_after_a_form_error_the_facts_stay_on_the_page(site, world):
    _, review = at_regional_review(world)
    browser = signed_in(site, EFP)
    browser.get(f"/tasks/{review.id}")
    response = browser.post(f"/tasks/{review.id}", {"regional_recommendation": "return", "_action": "complete"})
    assert response.status_code == 400 and "Amount requested (USD)" in text(response)


def test_a_return_puts_its_reason_at_the_top_of_the_revision(site, world):
    instance, review = at_regional_review(world)
    reason = "Add the WASH line and the partner's capacity."
    tasks.complete_task(
        world.uow(), world.user(EFP), review.id, {"regional_recommendation": "return", "regional_comments": reason}
    )
    revise = next(t for t in tasks.inbox(world.uow(), world.user(COM)) if t.instance_id == instance.id)
    page = text(signed_in(site, COM).get(f"/tasks/{revise.id}"))
    top = page[page.index('class="returned"') : page.index('class="case-summary"')]
    assert "Returned for revision by Emergency Focal Point" in top and reason.replace("'", "&#39;") in top
    assert "Return for information" in top


def test_the_timeline_says_what_happened_in_words(site, world):
    instance, review = at_regional_review(world)
    tasks.complete_task(world.uow(), world.user(EFP), review.id, MEFM["mefm_regional_review"])
    page = text(signed_in(site, COM).get(f"/instances/{instance.id}"))
    timeline = page[page.index('class="timeline"') :]
    assert "Started by Chief of Mission" in timeline
    assert "done by Emergency Focal Point" in timeline and "<strong>Recommend</strong>" in timeline
    assert "<em>recommend</em>" not in timeline and "→ <strong>recommend</strong>" not in timeline


def test_a_breach_carries_a_badge_sorts_first_and_counts_as_overdue(site, world):
    late, _ = at_regional_review(world)
    world.clock.advance(hours=1)
    on_time, _ = at_regional_review(world)
    submitted = world.clock.now() - timedelta(hours=1)
    tick_at(world, submitted + timedelta(hours=25))
    tick_at(world, submitted + timedelta(hours=49))  # the first case passes its 48 hours
    assert instances.get_instance(world.uow(), world.user(COM), late.id).sla_breached
    assert not instances.get_instance(world.uow(), world.user(COM), on_time.id).sla_breached

    timeline = text(signed_in(site, COM).get(f"/instances/{late.id}"))
    assert "Reminder emailed to" in timeline and "Escalated: Regional Director and PRD told" in timeline

    with world.uow() as uow:
        for user in uow.session.scalars(select(User).where(User.email.like("%@hq.demo"))):
            user.password_hash = hash_password(PASSWORD)
        uow.commit()
    holder = next(
        email
        for email in ("mefm-approver@hq.demo", "prd@hq.demo", "regional-director@ro-americas.demo")
        if any(t.instance_id == late.id for t in tasks.inbox(world.uow(), world.user(email)))
    )
    browser = signed_in(site, holder)
    inbox = text(browser.get("/"))
    rows = re.findall(r'<tr class="row-([a-z]+)">', inbox)
    assert rows and rows[0] == "breached" and "breached</span>" in inbox
    overdue = text(browser.get("/?overdue=1"))
    assert "row-breached" in overdue


def test_a_refused_form_still_shows_its_read_only_facts(site, world):
    instance, review = at_regional_review(world)
    tasks.complete_task(world.uow(), world.user(EFP), review.id, MEFM["mefm_regional_review"])
    prd = next(t for t in instances.get_instance(world.uow(), world.user(COM), instance.id).tasks)
    with world.uow() as uow:
        uow.session.scalar(select(User).where(User.email == "prd@hq.demo")).password_hash = hash_password(PASSWORD)
        uow.commit()
    browser = signed_in(site, "prd@hq.demo")
    browser.get(f"/tasks/{prd.id}")
    response = browser.post(f"/tasks/{prd.id}", {"_action": "complete"})
    assert response.status_code == 400
    work = text(response)
    work = work[work.index('class="task-form"') :]
    work = work[: work.index("</form>")]
    assert "500,000" in work  # the amount requested, read-only on the PRD's form
