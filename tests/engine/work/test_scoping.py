"""Lanes are roles, scoped by office: who sees and who acts on a task or an instance."""

from __future__ import annotations

import pytest

from engine.errors import Conflict, NotFound, PermissionDenied
from engine.org import users
from engine.work import instances, tasks
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task, start

PD_PAN = "project-developer@pan.demo"


def test_panama_user_cannot_see_or_complete_a_haiti_task(world, funding_review):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    panama = world.user(PD_PAN)

    assert tasks.inbox(world.uow(), panama) == []
    with pytest.raises(NotFound):
        tasks.get_task(world.uow(), panama, draft.id)
    with pytest.raises(NotFound):
        tasks.complete_task(world.uow(), panama, draft.id, DRAFT)
    with pytest.raises(NotFound):
        tasks.claim_task(world.uow(), panama, draft.id)
    with pytest.raises(NotFound):
        instances.get_instance(world.uow(), panama, instance.id)
    with pytest.raises(NotFound):
        instances.start_instance(world.uow(), panama, "funding_review", "HTI", {})


def test_regional_roles_act_for_every_country_office_of_their_region(world, funding_review):
    for office, drafter in [("HTI", PD_HTI), ("PAN", PD_PAN)]:
        instance = start(world, who=drafter, office=office)
        tasks.complete_task(world.uow(), world.user(drafter), only_task(world, drafter, instance.id).id, DRAFT)
    offices = sorted(t.office for t in tasks.inbox(world.uow(), world.user(EFP)))
    assert offices == ["HTI", "PAN"]


def test_regional_director_sees_a_haiti_task_but_may_not_do_the_drafters_work(world, funding_review):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    director = world.user("regional-director@ro-americas.demo")
    assert tasks.get_task(world.uow(), director, draft.id).id == draft.id
    assert instances.get_instance(world.uow(), director, instance.id).id == instance.id
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), director, draft.id, DRAFT)


def test_headquarters_roles_see_every_office(world, funding_review):
    instance = start(world)
    approver = world.user("mefm-approver@hq.demo")
    assert instances.get_instance(world.uow(), approver, instance.id).office == "HTI"


def test_a_claimed_task_leaves_the_other_candidates_inbox_until_released(world, funding_review):
    colleague = users.add_user(
        world.uow(), "second.drafter@hti.example", name="Second drafter", office="HTI", roles=["Project Developer"]
    )
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    assert only_task(world, "second.drafter@hti.example", instance.id).id == draft.id

    claimed = tasks.claim_task(world.uow(), world.user(PD_HTI), draft.id)
    assert claimed.assignee_id == world.user(PD_HTI)
    assert tasks.inbox(world.uow(), colleague) == []
    with pytest.raises(Conflict):
        tasks.claim_task(world.uow(), colleague, draft.id)
    with pytest.raises(PermissionDenied):
        tasks.complete_task(world.uow(), colleague, draft.id, DRAFT)

    tasks.release_task(world.uow(), world.user(PD_HTI), draft.id)
    assert [t.id for t in tasks.inbox(world.uow(), colleague)] == [draft.id]
    tasks.complete_task(world.uow(), colleague, draft.id, DRAFT)
    events = instances.get_instance(world.uow(), colleague, instance.id).events
    assert [(e.kind, e.actor_id) for e in events][1:] == [
        ("claimed", world.user(PD_HTI)),
        ("released", world.user(PD_HTI)),
        ("completed_task", colleague),
    ]
