"""A multi-lane process run start to end through the engine API, as the right people."""

from __future__ import annotations

import pytest

from engine.errors import InvalidData, PermissionDenied
from engine.work import instances, tasks

PD_HTI = "project-developer@hti.demo"
EFP = "emergency-focal-point@ro-americas.demo"
APPROVER = "mefm-approver@hq.demo"
DRAFT = {"title": "Hurricane Marisol bridge", "amount": 50000, "justification": "shelter kits"}


def start(world, who=PD_HTI, office="HTI", data=None):
    return instances.start_instance(world.uow(), world.user(who), "funding_review", office, data or {})


def only_task(world, who, instance_id):
    found = [t for t in tasks.inbox(world.uow(), world.user(who)) if t.instance_id == instance_id]
    assert len(found) == 1, found
    return found[0]


def test_request_runs_from_draft_through_regional_review_to_hq_approval(world, funding_review):
    instance = start(world)
    assert instance.status == "running" and instance.version == 1
    assert [t.title for t in instance.tasks] == ["Draft the request"]

    draft = only_task(world, PD_HTI, instance.id)
    assert draft.lane == "Project Developer" and draft.office == "HTI"
    after_draft = tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    assert [t.title for t in after_draft.tasks] == ["Review the request"]

    review = only_task(world, EFP, instance.id)
    world.clock.advance(hours=3)
    tasks.complete_task(world.uow(), world.user(EFP), review.id, {"decision": "recommend"})

    approval = only_task(world, APPROVER, instance.id)
    done = tasks.complete_task(world.uow(), world.user(APPROVER), approval.id, {})

    assert done.status == "completed" and done.completed_at == world.clock.now()
    assert done.tasks == []
    assert done.data["reference"] == "FR-HTI-50000"  # the script task ran, restricted
    assert [(e.kind, e.title, e.outcome) for e in done.events] == [
        ("started", None, None),
        ("completed_task", "Draft the request", None),
        ("completed_task", "Review the request", "recommend"),
        ("completed_task", "Approve the funds", None),
        ("completed", None, None),
    ]
    assert done.events[1].data == DRAFT and done.events[1].actor_id == world.user(PD_HTI)


def test_returned_request_goes_back_to_the_drafter_and_can_be_resubmitted(world, funding_review):
    instance = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    tasks.complete_task(
        world.uow(),
        world.user(EFP),
        only_task(world, EFP, instance.id).id,
        {"decision": "return", "comments": "add the shelter budget line"},
    )

    redraft = only_task(world, PD_HTI, instance.id)
    assert redraft.title == "Draft the request"
    tasks.complete_task(world.uow(), world.user(PD_HTI), redraft.id, {**DRAFT, "amount": 42000})
    after = tasks.complete_task(
        world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "reject"}
    )
    assert after.status == "completed"
    assert "reference" not in after.data


def test_start_is_for_the_role_of_the_start_lane_in_that_office(world, funding_review):
    with pytest.raises(PermissionDenied):
        start(world, who="chief-of-mission@hti.demo")
    with pytest.raises(PermissionDenied):
        start(world, who="regional-director@ro-americas.demo", office="HTI")


def test_invalid_form_data_is_refused_per_field_and_changes_nothing(world, funding_review):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, {"amount": "lots", "typename": "x"})
    assert refused.value.fields == {
        "amount": "Must be a number.",
        "title": "This field is required.",
        "typename": "'typename' is a reserved name and cannot be used as a field",
    }
    still = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id)
    assert [t.id for t in still.tasks] == [draft.id]
    assert [e.kind for e in still.events] == ["started"]


def test_task_without_a_lane_goes_to_whoever_started_the_instance(world):
    from tests.engine.conftest import diagram, publish

    files = diagram("funding_review.bpmn")
    text = files["funding_review.bpmn"].decode()
    start_at, end_at = text.index("<bpmn:laneSet"), text.index("</bpmn:laneSet>") + len("</bpmn:laneSet>")
    publish(world, {"funding_review.bpmn": (text[:start_at] + text[end_at:]).encode()})
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    assert draft.assignee_id == world.user(PD_HTI) and draft.lane is None
    assert [t for t in tasks.inbox(world.uow(), world.user("project-developer@pan.demo"))] == []
