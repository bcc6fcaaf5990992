"""The case summary: what the people who check, sign, review, decide and fund a request see of it."""

from __future__ import annotations

import pytest

from engine.modeling import publishing
from engine.work import instances, pages, tasks
from tests.processes.conftest import FORMS, shipped_files
from tests.web.people import COM, EFP, MEFM, RM
from tests.web.test_pages import at_regional_review


@pytest.fixture
def published(world):
    publishing.publish(world.uow(), shipped_files(), forms_dir=str(FORMS))


def facts_of(world, instance_id, who=COM):
    view = instances.get_instance(world.uow(), world.user(who), instance_id)
    return {fact.name: fact.value for fact in view.summary}, view


def test_the_summary_holds_every_answer_of_the_request_in_the_order_of_its_form(published, world):
    instance = instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", MEFM["mefm_request_start"])
    facts, view = facts_of(world, instance.id)
    start = MEFM["mefm_request_start"]
    assert facts == start
    assert [fact.name for fact in view.summary][:3] == ["title", "crisis_type", "onset_date"]
    amount = next(fact for fact in view.summary if fact.name == "requested_amount_usd")
    assert amount.spec["title"] == "Amount requested (USD)" and amount.value == start["requested_amount_usd"]


def test_later_steps_add_only_the_answers_their_forms_mark_and_never_read_only_copies(published, world):
    instance, review = at_regional_review(world)
    tasks.complete_task(world.uow(), world.user(EFP), review.id, MEFM["mefm_regional_review"])
    facts, _ = facts_of(world, instance.id)
    assert facts["budget_check_result"] == "cleared"  # marked x-summary
    assert facts["regional_recommendation"] == "recommend"
    assert "com_confirmation" not in facts and "regional_comments" not in facts  # not marked
    assert "activities_total_usd" not in facts  # computed from the lines: a copy


def test_a_revised_answer_replaces_the_first_one_in_its_place(published, world):
    instance, review = at_regional_review(world)
    tasks.complete_task(
        world.uow(), world.user(EFP), review.id, {"regional_recommendation": "return", "regional_comments": "Add WASH."}
    )
    revise = next(t for t in tasks.inbox(world.uow(), world.user(COM)) if t.instance_id == instance.id)
    revised = {**MEFM["mefm_request_start"], "requested_amount_usd": 450_000}
    revised["activities"] = [dict(line) for line in revised["activities"]]
    revised["activities"][0]["cost_usd"] -= 50_000
    tasks.complete_task(world.uow(), world.user(COM), revise.id, _fields_of(world, revise, revised))
    facts, view = facts_of(world, instance.id)
    assert facts["requested_amount_usd"] == 450_000
    names = [fact.name for fact in view.summary]
    assert names.index("requested_amount_usd") < names.index("activities")  # kept its place


def _fields_of(world, task, data):
    form = tasks.get_task(world.uow(), world.user(COM), task.id).form or {}
    return {name: value for name, value in data.items() if name in form.get("properties", {})}


def test_the_people_who_cannot_act_on_a_task_see_it_read_only(published, world):
    _, review = at_regional_review(world)
    director = "regional-director@ro-americas.demo"
    assert pages.task_page(world.uow(), world.user(director), review.id).may_act is False
    assert pages.task_page(world.uow(), world.user(EFP), review.id).may_act is True
    assert pages.task_page(world.uow(), world.user(RM), review.id).may_act is False
