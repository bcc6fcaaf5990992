"""Cancelling a running case through the engine: who may (the starter, the office's Chief of Mission,
a Regional Director of the region, an Admin), who may not, what it closes (open tasks, timers,
message subscriptions), what it records, and that nothing acts on the case afterwards."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import Conflict, InvalidData, NotFound, PermissionDenied
from engine.scheduling import ticker
from engine.store.models import AuditEvent, HumanTask, Message, MessageSubscription, ProcessInstance, Timer
from engine.work import cancel, instances, pages, tasks
from tests.conftest import T0
from tests.engine.conftest import diagram, publish
from tests.engine.messaging.test_messages import FINANCE, publish_all
from tests.engine.scheduling.test_timers import start_review
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task, start

COM_HTI = "chief-of-mission@hti.demo"
RM_HTI = "resources-management@hti.demo"
COM_PAN = "chief-of-mission@pan.demo"
DIRECTOR = "regional-director@ro-americas.demo"
ADMIN = "admin@hq.demo"
APPROVER = "mefm-approver@hq.demo"
WHY = "The hurricane turned north; the office no longer needs the bridge."


def cancel_as(world, who, instance_id, reason=WHY):
    return cancel.cancel_instance(world.uow(), world.user(who), instance_id, reason)


def snapshot(world, instance_id) -> tuple:
    """What a refused cancel must leave as it was."""
    with world.db.unit_of_work(write=False) as tx:
        row = tx.session.get(ProcessInstance, instance_id)
        events = tx.session.scalar(select(func.count()).where(AuditEvent.instance_id == instance_id))
        held = tx.session.execute(
            select(HumanTask.id, HumanTask.state).where(HumanTask.instance_id == instance_id).order_by(HumanTask.id)
        ).all()
        return row.status, row.revision, row.state, events, [tuple(h) for h in held]


def rows(world, model, instance_id):
    with world.db.unit_of_work(write=False) as tx:
        found = list(tx.session.scalars(select(model).where(model.instance_id == instance_id)))
        tx.session.expunge_all()
        return found


@pytest.mark.parametrize("who", [PD_HTI, COM_HTI, DIRECTOR, ADMIN], ids=["starter", "com", "director", "admin"])
def test_each_allowed_person_cancels_a_running_case(world, funding_review, who):
    instance = start(world)
    world.clock.set(T0 + timedelta(hours=3))
    cancelled = cancel_as(world, who, instance.id)

    assert cancelled.status == "cancelled" and cancelled.tasks == []
    assert cancelled.completed_at == T0 + timedelta(hours=3)
    [draft] = rows(world, HumanTask, instance.id)
    assert (draft.state, draft.completed_at, draft.completed_by_id) == ("cancelled", world.clock.now(), None)
    last = [(e.kind, e.actor_id, e.data) for e in cancelled.events][-1]
    assert last == ("cancelled", world.user(who), {"reason": WHY})
    assert "completed" not in [e.kind for e in cancelled.events]  # cancelled, not finished


@pytest.mark.parametrize("who", [RM_HTI, EFP, APPROVER], ids=["same-office", "region", "hq"])
def test_those_who_see_the_case_but_may_not_cancel_it_are_refused_and_nothing_changes(world, funding_review, who):
    instance = start(world)
    before = snapshot(world, instance.id)
    with pytest.raises(PermissionDenied):
        cancel_as(world, who, instance.id)
    assert snapshot(world, instance.id) == before


def test_another_office_gets_not_found(world, funding_review):
    instance = start(world)
    before = snapshot(world, instance.id)
    with pytest.raises(NotFound):
        cancel_as(world, COM_PAN, instance.id)
    with pytest.raises(NotFound):
        cancel_as(world, COM_HTI, instance.id + 1000)
    assert snapshot(world, instance.id) == before


@pytest.mark.parametrize("reason", [None, "", "   \n ", 42, "x" * (cancel.MAX_REASON_CHARS + 1)])
def test_a_reason_is_required_and_bounded(world, funding_review, reason):
    instance = start(world)
    before = snapshot(world, instance.id)
    with pytest.raises(InvalidData) as refused:
        cancel_as(world, PD_HTI, instance.id, reason)
    assert list(refused.value.fields) == ["reason"]
    assert snapshot(world, instance.id) == before


def test_the_reason_is_kept_trimmed(world, funding_review):
    instance = start(world)
    cancel_as(world, PD_HTI, instance.id, f"  {WHY}\n")
    events = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id).events
    assert events[-1].data == {"reason": WHY}


def test_a_cancelled_or_completed_case_cannot_be_cancelled_again(world, funding_review):
    instance = start(world)
    cancel_as(world, PD_HTI, instance.id)
    before = snapshot(world, instance.id)
    with pytest.raises(Conflict, match="already cancelled"):
        cancel_as(world, ADMIN, instance.id)
    assert snapshot(world, instance.id) == before

    finished = start(world)
    draft = only_task(world, PD_HTI, finished.id)
    tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    review = only_task(world, EFP, finished.id)
    tasks.complete_task(world.uow(), world.user(EFP), review.id, {"decision": "reject"})
    with pytest.raises(Conflict, match="already completed"):
        cancel_as(world, PD_HTI, finished.id)


def test_acting_on_a_task_of_a_cancelled_case_is_a_conflict_that_says_so(world, funding_review):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    tasks.claim_task(world.uow(), world.user(PD_HTI), draft.id)
    cancel_as(world, COM_HTI, instance.id)
    pd = world.user(PD_HTI)
    attempts = {
        "claim": lambda: tasks.claim_task(world.uow(), pd, draft.id),
        "release": lambda: tasks.release_task(world.uow(), pd, draft.id),
        "complete": lambda: tasks.complete_task(world.uow(), pd, draft.id, DRAFT),
        "draft": lambda: tasks.save_draft(world.uow(), pd, draft.id, {"title": "still"}),
        "reassign": lambda: tasks.reassign_task(world.uow(), world.user(DIRECTOR), draft.id, pd),
    }
    for name, attempt in attempts.items():
        with pytest.raises(Conflict, match="the case was cancelled") as refused:
            attempt()
        assert refused.type is Conflict, name
    assert tasks.inbox(world.uow(), pd) == []


def test_a_cancel_and_a_completion_at_the_same_time_one_wins_the_other_conflicts(world, funding_review):
    instance = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    review = only_task(world, EFP, instance.id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(name, action):
        uow = world.uow()
        barrier.wait()
        try:
            outcomes[name] = action(uow)
        except Conflict as error:
            outcomes[name] = error

    actions = {
        "cancel": lambda uow: cancel.cancel_instance(uow, world.user(PD_HTI), instance.id, WHY),
        "reject": lambda uow: tasks.complete_task(uow, world.user(EFP), review.id, {"decision": "reject"}),
    }
    threads = [threading.Thread(target=act, args=item) for item in actions.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    lost = [name for name, outcome in outcomes.items() if isinstance(outcome, Conflict)]
    assert len(outcomes) == 2 and len(lost) == 1, outcomes
    after = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id)
    kinds = [e.kind for e in after.events]
    if lost == ["reject"]:
        assert after.status == "cancelled" and "the case was cancelled" in str(outcomes["reject"])
        assert "completed_task" not in kinds[kinds.index("cancelled") :]
    else:
        assert after.status == "completed" and "cancelled" not in kinds


def test_cancelling_removes_the_pending_timers_and_none_fires_later(world):
    publish(world, diagram("funding_review_sla.bpmn"))
    instance = start_review(world)
    assert {t.element_id for t in rows(world, Timer, instance.id)} == {"remind_reviewer", "escalate_review"}

    cancel_as(world, PD_HTI, instance.id)
    assert rows(world, Timer, instance.id) == []
    world.clock.set(T0 + timedelta(hours=72))
    assert ticker.tick(world.db, world.clock).fired == 0
    after = instances.get_instance(world.uow(), world.user(PD_HTI), instance.id)
    assert after.status == "cancelled" and not after.sla_breached
    assert "timer_fired" not in [e.kind for e in after.events]


def test_cancelling_removes_the_message_subscriptions_and_a_later_message_does_nothing(world):
    publish_all(world, "await_repayment.bpmn", "repay.bpmn")
    finance = world.user(FINANCE)
    loan = instances.start_instance(world.uow(), finance, "await_repayment", "HTI", {"reference": "MEFM-7"})
    assert len(rows(world, MessageSubscription, loan.id)) == 1

    cancel_as(world, FINANCE, loan.id)
    assert rows(world, MessageSubscription, loan.id) == []
    instances.start_instance(world.uow(), finance, "repay", "HTI", {"loan_reference": "MEFM-7", "amount": 5})
    with world.db.unit_of_work(write=False) as tx:
        [message] = tx.session.scalars(select(Message))
        assert (message.state, message.target_instance_id) == ("unmatched", None)
    after = instances.get_instance(world.uow(), finance, loan.id)
    assert after.status == "cancelled" and after.tasks == []
    assert "message_received" not in [e.kind for e in after.events]


def test_the_pages_offer_cancel_only_to_who_may_and_only_while_it_runs(world, funding_review):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    offered = {who: pages.instance_page(world.uow(), world.user(who), instance.id).may_cancel for who in (PD_HTI, EFP)}
    assert offered == {PD_HTI: True, EFP: False}
    assert pages.task_page(world.uow(), world.user(DIRECTOR), draft.id).may_cancel is True

    cancel_as(world, DIRECTOR, instance.id)
    page = pages.instance_page(world.uow(), world.user(PD_HTI), instance.id)
    assert page.may_cancel is False and page.instance.status == "cancelled"
