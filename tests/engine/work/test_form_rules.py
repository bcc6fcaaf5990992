"""The forms' cross-field rules and computed totals through the engine, on SQLite and PostgreSQL:
a completion or a start a rule refuses saves nothing; a computed total is the server's sum of the
case's lines, whatever the client sent."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import InvalidData
from engine.store.models import AuditEvent, HumanTask, ProcessInstance
from engine.work import instances, tasks
from tests.processes.conftest import complete, only_task, published_processes  # noqa: F401 (a fixture)
from tests.processes.scenarios import HAITI_HURRICANE

MEFM = HAITI_HURRICANE["mefm"]
COM, RM = "chief-of-mission@hti.demo", "resources-management@hti.demo"
EFP, PRD = "emergency-focal-point@ro-americas.demo", "prd@hq.demo"
APPROVER, FINANCE = "mefm-approver@hq.demo", "finance@hq.demo"
pytestmark = pytest.mark.usefixtures("published_processes")
REDUCED = {"decision": "approve_reduced", "approved_amount_usd": 400_000, "comments": "The DTM part waits."}


def start(world, **changes):
    data = {**MEFM["mefm_request_start"], **changes}
    return instances.start_instance(world.uow(), world.user(COM), "mefm_request", "HTI", data)


def to_allocation(world, decision: dict):
    instance = start(world)
    for who, key in ((RM, "mefm_budget_check"), (COM, "mefm_com_submission")):
        complete(world, who, instance.id, MEFM[key])
    for who, key in ((EFP, "mefm_regional_review"), (PRD, "mefm_prd_review")):
        complete(world, who, instance.id, MEFM[key])
    complete(world, APPROVER, instance.id, decision)
    return instance


def stored(world, instance_id: int) -> tuple:
    """What a refused action must leave as it was: the state and revision, the audit, the tasks."""
    with world.uow() as tx:
        instance = tx.session.get(ProcessInstance, instance_id)
        events = tx.session.scalar(select(func.count()).where(AuditEvent.instance_id == instance_id))
        open_tasks = tx.session.scalars(
            select(HumanTask.id).where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        ).all()
        return instance.state, instance.revision, events, sorted(open_tasks)


def test_an_allocation_above_the_reduced_amount_approved_is_refused_and_nothing_is_saved(world):
    instance = to_allocation(world, REDUCED)
    task = only_task(world, FINANCE, instance.id)
    before = stored(world, instance.id)
    over = {**MEFM["mefm_finance_allocation"], "allocated_amount_usd": 450_000}
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(FINANCE), task.id, over)
    assert refused.value.fields == {
        "allocated_amount_usd": "The allocation cannot be more than the approved amount: USD 400,000."
    }
    assert stored(world, instance.id) == before

    within = {**MEFM["mefm_finance_allocation"], "allocated_amount_usd": 400_000}
    done = tasks.complete_task(world.uow(), world.user(FINANCE), task.id, within)
    assert done.data["allocated_amount_usd"] == 400_000 and stored(world, instance.id) != before


def test_approved_in_full_the_allocation_is_checked_against_the_amount_requested(world):
    instance = to_allocation(world, MEFM["mefm_decision"])
    task = only_task(world, FINANCE, instance.id)
    over = {**MEFM["mefm_finance_allocation"], "allocated_amount_usd": 500_001}
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(FINANCE), task.id, over)
    assert refused.value.fields == {
        "allocated_amount_usd": "The allocation cannot be more than the approved amount: USD 500,000."
    }
    done = tasks.complete_task(world.uow(), world.user(FINANCE), task.id, MEFM["mefm_finance_allocation"])
    assert done.data["allocated_amount_usd"] == 500_000


def test_the_budget_checks_total_is_the_sum_of_the_case_lines_whatever_the_client_sends(world):
    instance = start(world)
    forged = {**MEFM["mefm_budget_check"], "activities_total_usd": 1, "requested_amount_usd": 1}
    done = complete(world, RM, instance.id, forged)
    assert done.data["activities_total_usd"] == 500_000  # 260,000 + 140,000 + 60,000 + 40,000
    assert done.data["requested_amount_usd"] == 500_000  # read-only: the submission cannot change it
    completed = [e for e in done.events if e.kind == "completed_task"]
    assert completed[-1].data["activities_total_usd"] == 500_000


def test_a_request_whose_amount_is_not_the_sum_of_its_activities_is_not_started(world):
    with world.uow() as tx:
        before = tx.session.scalar(select(func.count()).select_from(ProcessInstance))
    with pytest.raises(InvalidData) as refused:
        start(world, requested_amount_usd=480_000)
    assert refused.value.fields == {
        "requested_amount_usd": "The amount requested must equal the sum of the activity costs: USD 500,000."
    }
    with world.uow() as tx:
        assert tx.session.scalar(select(func.count()).select_from(ProcessInstance)) == before
    assert start(world).data["activities_total_usd"] == 500_000  # computed on the start form too


def test_a_reduced_amount_must_be_less_than_the_amount_requested(world):
    instance = start(world)
    for who, key in ((RM, "mefm_budget_check"), (COM, "mefm_com_submission")):
        complete(world, who, instance.id, MEFM[key])
    for who, key in ((EFP, "mefm_regional_review"), (PRD, "mefm_prd_review")):
        complete(world, who, instance.id, MEFM[key])
    task = only_task(world, APPROVER, instance.id)
    with pytest.raises(InvalidData) as refused:
        tasks.complete_task(world.uow(), world.user(APPROVER), task.id, {**REDUCED, "approved_amount_usd": 500_000})
    assert refused.value.fields == {
        "approved_amount_usd": "A reduced amount is less than the amount requested: USD 500,000."
    }
