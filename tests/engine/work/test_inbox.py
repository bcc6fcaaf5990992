"""The inbox and what a person does with a task besides completing it: filters, drafts,
reassignment by a supervisor, the instances one started and the diagram's state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.errors import Conflict, InvalidData, NotFound, PermissionDenied
from engine.org import users
from engine.work import instances, tasks
from tests.engine.conftest import diagram, publish

PD_HTI, PD_PAN = "project-developer@hti.demo", "project-developer@pan.demo"
EFP = "emergency-focal-point@ro-americas.demo"
DIRECTOR = "regional-director@ro-americas.demo"
ADMIN = "admin@hq.demo"
DRAFT = {"title": "Hurricane Marisol bridge", "amount": 50000, "justification": "shelter kits"}


def start(world, who=PD_HTI, office="HTI"):
    return instances.start_instance(world.uow(), world.user(who), "funding_review", office, {})


def inbox(world, who, **filters):
    return [(t.instance_id, t.title) for t in tasks.inbox(world.uow(), world.user(who), **filters)]


def test_the_inbox_filters_by_holder_process_office_and_due_time(world, funding_review):
    haiti, panama = start(world), start(world, PD_PAN, "PAN")
    task = tasks.inbox(world.uow(), world.user(PD_HTI))[0]
    assert (task.process_name, task.assignee_name) == ("Funding review (test)", None)
    assert inbox(world, PD_HTI, which="mine") == []
    assert inbox(world, PD_HTI, which="claimable") == [(haiti.id, "Draft the request")]
    tasks.claim_task(world.uow(), world.user(PD_HTI), task.id)
    assert inbox(world, PD_HTI, which="mine") == [(haiti.id, "Draft the request")]
    assert inbox(world, PD_HTI, which="claimable") == []
    assert tasks.inbox(world.uow(), world.user(PD_HTI))[0].assignee_name == "Project Developer (HTI)"

    for who in (PD_HTI, PD_PAN):
        tasks.complete_task(world.uow(), world.user(who), tasks.inbox(world.uow(), world.user(who))[0].id, DRAFT)
    both = [(haiti.id, "Review the request"), (panama.id, "Review the request")]
    assert sorted(inbox(world, EFP)) == both
    assert inbox(world, EFP, office="PAN") == [(panama.id, "Review the request")]
    assert inbox(world, EFP, process_id="another") == []


def test_the_overdue_filter_keeps_the_tasks_due_before_now(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    early = instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review_sla", "HTI", {})
    tasks.complete_task(world.uow(), world.user(PD_HTI), tasks.inbox(world.uow(), world.user(PD_HTI))[0].id, DRAFT)
    world.clock.advance(hours=10)
    late = instances.start_instance(world.uow(), world.user(PD_HTI), "funding_review_sla", "HTI", {})
    tasks.complete_task(world.uow(), world.user(PD_HTI), tasks.inbox(world.uow(), world.user(PD_HTI))[0].id, DRAFT)
    due = {t.instance_id: t.due_at for t in tasks.inbox(world.uow(), world.user(EFP))}
    assert due[late.id] - due[early.id] == timedelta(hours=10)
    assert [i for i, _ in inbox(world, EFP)] == [early.id, late.id]  # soonest due first
    assert inbox(world, EFP, due_before=due[early.id]) == []
    assert [i for i, _ in inbox(world, EFP, due_before=due[early.id] + timedelta(hours=1))] == [early.id]


def test_a_draft_is_kept_for_its_holder_only_and_claims_a_free_task(world, funding_review):
    instance = start(world)
    task = tasks.inbox(world.uow(), world.user(PD_HTI))[0]
    saved = tasks.save_draft(world.uow(), world.user(PD_HTI), task.id, {"title": "Half", "amount": "50k"})
    assert saved.assignee_id == world.user(PD_HTI) and saved.draft == {"title": "Half", "amount": "50k"}
    assert tasks.get_task(world.uow(), world.user(PD_HTI), task.id).draft == {"title": "Half", "amount": "50k"}
    assert tasks.get_task(world.uow(), world.user(DIRECTOR), task.id).draft is None  # someone else's draft
    with pytest.raises(PermissionDenied):
        tasks.save_draft(world.uow(), world.user(DIRECTOR), task.id, {"title": "Mine"})
    with pytest.raises(InvalidData):
        tasks.save_draft(world.uow(), world.user(PD_HTI), task.id, ["not", "a", "form"])
    view = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id)
    assert "title" not in view.data  # a draft is not task data
    tasks.complete_task(world.uow(), world.user(PD_HTI), task.id, DRAFT)
    with pytest.raises(Conflict):
        tasks.save_draft(world.uow(), world.user(PD_HTI), task.id, {"title": "late"})


def test_a_supervisor_reassigns_to_a_holder_of_the_role_and_nobody_else_may(world, funding_review):
    start(world)
    other = users.add_user(
        world.uow(), "marie.joseph@hti.example", name="Marie Joseph", office="HTI", roles=["Project Developer"]
    )
    task = tasks.inbox(world.uow(), world.user(PD_HTI))[0]
    tasks.claim_task(world.uow(), world.user(PD_HTI), task.id)
    assert [name for _, name in tasks.candidates(world.uow(), world.user(DIRECTOR), task.id)] == [
        "Marie Joseph",
        "Project Developer (HTI)",
    ]
    with pytest.raises(PermissionDenied):
        tasks.reassign_task(world.uow(), world.user(PD_HTI), task.id, other)
    with pytest.raises(InvalidData) as refused:
        tasks.reassign_task(world.uow(), world.user(DIRECTOR), task.id, world.user(EFP))
    assert "does not hold Project Developer in HTI" in refused.value.fields["assignee"]
    moved = tasks.reassign_task(world.uow(), world.user(DIRECTOR), task.id, other)
    assert moved.assignee_id == other and moved.assignee_name == "Marie Joseph"
    assert tasks.reassign_task(world.uow(), world.user(ADMIN), task.id, world.user(PD_HTI)).assignee_id == world.user(
        PD_HTI
    )
    events = instances.get_instance(world.uow(), world.user(DIRECTOR), task.instance_id).events
    assert [(e.kind, e.outcome) for e in events if e.kind == "reassigned"] == [
        ("reassigned", "Marie Joseph"),
        ("reassigned", "Project Developer (HTI)"),
    ]


def test_instances_one_started_newest_first_and_nobody_elses(world, funding_review):
    first = start(world)
    world.clock.advance(minutes=5)
    second = start(world)
    start(world, PD_PAN, "PAN")
    assert [i.id for i in instances.started_by(world.uow(), world.user(PD_HTI))] == [second.id, first.id]


def test_the_diagram_state_shows_what_ran_and_who_is_waiting(world, funding_review):
    instance = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), tasks.inbox(world.uow(), world.user(PD_HTI))[0].id, DRAFT)
    diagram = instances.diagram(world.uow(), world.user(PD_HTI), instance.id)
    assert diagram.process_id == "funding_review" and 'id="funding_review"' in diagram.xml
    assert {"start", "draft"} <= set(diagram.completed) and diagram.active == ["review"]
    with pytest.raises(NotFound):
        instances.diagram(world.uow(), world.user(PD_PAN), instance.id)
