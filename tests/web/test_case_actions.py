"""Comments and cancel over HTTP: the API's contracts (comment 201 and the list, cancel 200 with the
status, 400 without text or reason, 403 for who may not cancel, 404 for another office, 409 after),
and the pages' forms (a comment posted back to the page it came from, the cancel form only for who
may cancel, with a required reason and a confirmation, that works without JavaScript)."""

from __future__ import annotations

from engine.work import comments, instances
from tests.web.api_fixtures import (  # noqa: F401 - api_fixture is the fixture `api`
    CHIEF_OF_MISSION_HTI,
    CHIEF_OF_MISSION_PAN,
    EMERGENCY_FOCAL_POINT,
    RESOURCES_MANAGEMENT_HTI,
    api_fixture,
)
from tests.web.people import COM, EFP, MEFM, RM, Client

WHY = "Funded by another donor."


def mefm_case(world) -> int:
    return instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"]).id


# --- the API ---------------------------------------------------------------------------------------


def test_a_comment_is_created_and_listed_oldest_first(api, world):
    instance_id = mefm_case(world)
    first = api.post(f"/instances/{instance_id}/comments", EMERGENCY_FOCAL_POINT, {"text": "  Which exchange rate?  "})
    assert first.status_code == 201
    assert first.json == {
        "id": first.json["id"],
        "instance_id": instance_id,
        "text": "Which exchange rate?",
        "author_id": world.user(EMERGENCY_FOCAL_POINT),
        "author": "Emergency Focal Point (RO-AMERICAS)",
        "at": "2026-11-25T12:00:00Z",
    }
    second = api.post(f"/instances/{instance_id}/comments", CHIEF_OF_MISSION_HTI, {"text": "The UN rate."}).json
    listed = api.get(f"/instances/{instance_id}/comments", RESOURCES_MANAGEMENT_HTI)
    assert listed.status_code == 200 and listed.json == {"comments": [first.json, second]}
    events = api.get(f"/instances/{instance_id}/events", CHIEF_OF_MISSION_HTI).json["events"]
    assert [e["data"] for e in events if e["kind"] == "commented"] == [
        {"text": "Which exchange rate?"},
        {"text": "The UN rate."},
    ]


def test_a_comment_without_text_is_400_and_another_office_gets_404(api, world):
    instance_id = mefm_case(world)
    for body in ({}, {"text": ""}, {"text": "   "}, {"text": 3}, {"text": "x" * 4001}):
        refused = api.post(f"/instances/{instance_id}/comments", CHIEF_OF_MISSION_HTI, body)
        assert refused.status_code == 400 and "text" in refused.json["fields"], body
    assert api.post(f"/instances/{instance_id}/comments", CHIEF_OF_MISSION_PAN, {"text": "Hi"}).status_code == 404
    assert api.get(f"/instances/{instance_id}/comments", CHIEF_OF_MISSION_PAN).status_code == 404
    assert api.get(f"/instances/{instance_id}/comments", CHIEF_OF_MISSION_HTI).json == {"comments": []}


def test_cancel_answers_the_cancelled_instance_and_its_tasks_are_409_after(api, world):
    instance_id = mefm_case(world)
    [task] = api.get(f"/instances/{instance_id}", CHIEF_OF_MISSION_HTI).json["tasks"]
    cancelled = api.post(f"/instances/{instance_id}/cancel", CHIEF_OF_MISSION_HTI, {"reason": WHY})
    assert cancelled.status_code == 200
    assert (cancelled.json["id"], cancelled.json["status"], cancelled.json["tasks"]) == (instance_id, "cancelled", [])
    assert cancelled.json["completed_at"] == "2026-11-25T12:00:00Z"
    events = api.get(f"/instances/{instance_id}/events", CHIEF_OF_MISSION_HTI).json["events"]
    assert (events[-1]["kind"], events[-1]["actor_id"], events[-1]["data"]) == (
        "cancelled",
        world.user(CHIEF_OF_MISSION_HTI),
        {"reason": WHY},
    )

    claim = api.post(f"/tasks/{task['id']}/claim", RESOURCES_MANAGEMENT_HTI)
    assert claim.status_code == 409 and "cancelled" in claim.json["error"]
    again = api.post(f"/instances/{instance_id}/cancel", CHIEF_OF_MISSION_HTI, {"reason": WHY})
    assert again.status_code == 409


def test_cancel_without_a_reason_is_400_by_who_may_not_403_and_another_office_404(api, world):
    instance_id = mefm_case(world)
    for body in ({}, {"reason": ""}, {"reason": "  \n"}):
        refused = api.post(f"/instances/{instance_id}/cancel", CHIEF_OF_MISSION_HTI, body)
        assert refused.status_code == 400 and "reason" in refused.json["fields"], body
    assert api.post(f"/instances/{instance_id}/cancel", RESOURCES_MANAGEMENT_HTI, {"reason": WHY}).status_code == 403
    assert api.post(f"/instances/{instance_id}/cancel", EMERGENCY_FOCAL_POINT, {"reason": WHY}).status_code == 403
    assert api.post(f"/instances/{instance_id}/cancel", CHIEF_OF_MISSION_PAN, {"reason": WHY}).status_code == 404
    assert api.get(f"/instances/{instance_id}", CHIEF_OF_MISSION_HTI).json["status"] == "running"


# --- the pages -------------------------------------------------------------------------------------


def signed_in(site, email) -> Client:
    browser = Client(site)
    browser.sign_in(email)
    return browser


def section(page: str) -> str:
    return page[page.index('class="case-actions"') :]


def test_the_comment_form_is_on_both_pages_and_the_cancel_form_only_for_who_may_cancel(site, world):
    instance_id = mefm_case(world)
    [task] = instances.get_instance(world.uow(), world.user(COM), instance_id).tasks
    for who, offered in ((COM, True), (RM, False), (EFP, False)):
        browser = signed_in(site, who)
        for url in (f"/instances/{instance_id}", f"/tasks/{task.id}"):
            actions = section(browser.get(url).get_data(as_text=True))
            assert f'action="/instances/{instance_id}/comments"' in actions and 'name="csrf_token"' in actions
            assert (f'action="/instances/{instance_id}/cancel"' in actions) is offered, (who, url)
    actions = section(signed_in(site, COM).get(f"/instances/{instance_id}").get_data(as_text=True))
    assert '<details class="cancel-case">' in actions  # opens without JavaScript
    assert 'name="reason"' in actions and 'name="confirm" value="yes" required' in actions


def test_a_comment_posted_from_a_task_page_goes_back_to_it_and_shows_in_the_timeline(site, world):
    instance_id = mefm_case(world)
    [task] = instances.get_instance(world.uow(), world.user(COM), instance_id).tasks
    browser = signed_in(site, RM)
    browser.get(f"/tasks/{task.id}")
    response = browser.post(
        f"/instances/{instance_id}/comments", {"text": "Line 3 looks high.", "back": f"/tasks/{task.id}"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tasks/{task.id}")
    assert "Your comment is on the case&#39;s timeline." in browser.get(f"/tasks/{task.id}").get_data(as_text=True)
    page = browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "Line 3 looks high." in page[page.index('class="timeline"') :]


def test_an_empty_comment_from_the_page_is_refused_and_nothing_is_kept(site, world):
    instance_id = mefm_case(world)
    browser = signed_in(site, RM)
    browser.get(f"/instances/{instance_id}")
    response = browser.post(f"/instances/{instance_id}/comments", {"text": "  "})
    assert response.status_code == 400 and "Write a comment first." in response.get_data(as_text=True)
    assert comments.comments_of(world.uow(), world.user(RM), instance_id) == []


def test_the_cancel_form_needs_its_reason_and_its_confirmation_then_shows_the_cancelled_case(site, world):
    instance_id = mefm_case(world)
    browser = signed_in(site, COM)
    browser.get(f"/instances/{instance_id}")
    unconfirmed = browser.post(f"/instances/{instance_id}/cancel", {"reason": WHY})
    assert unconfirmed.status_code == 400 and "Tick the box" in unconfirmed.get_data(as_text=True)
    assert browser.post(f"/instances/{instance_id}/cancel", {"confirm": "yes"}).status_code == 400
    assert instances.get_instance(world.uow(), world.user(COM), instance_id).status == "running"

    done = browser.post(f"/instances/{instance_id}/cancel", {"reason": WHY, "confirm": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/instances/{instance_id}")
    page = browser.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "The case is cancelled" in page and '<span class="badge">cancelled</span>' in page
    assert WHY in page[page.index('class="timeline"') :]
    assert 'action="/instances/%d/cancel"' % instance_id not in page  # not offered again
    started = browser.get("/?tab=started").get_data(as_text=True)
    assert "Cancelled" in started[started.index(f"/instances/{instance_id}") :]


def test_who_may_not_cancel_gets_403_from_the_page_route(site, world):
    instance_id = mefm_case(world)
    browser = signed_in(site, EFP)
    browser.get(f"/instances/{instance_id}")
    assert browser.post(f"/instances/{instance_id}/cancel", {"reason": WHY, "confirm": "yes"}).status_code == 403
    assert instances.get_instance(world.uow(), world.user(COM), instance_id).status == "running"
