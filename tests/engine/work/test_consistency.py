"""One unit of work per action: conflicts change nothing, a crash before commit loses nothing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.errors import Conflict
from engine.store.models import AuditEvent, HumanTask, ProcessInstance
from engine.store.uow import Transaction
from engine.work import instances, tasks
from tests.engine.work.test_instances import DRAFT, EFP, PD_HTI, only_task, start


def snapshot(world, instance_id):
    """Everything the database holds about an instance, as plain values."""
    with world.db.unit_of_work(write=False) as uow:
        s = uow.session
        row = s.get(ProcessInstance, instance_id)
        human = s.execute(
            select(HumanTask.id, HumanTask.state, HumanTask.assignee_id, HumanTask.completed_at)
            .where(HumanTask.instance_id == instance_id)
            .order_by(HumanTask.id)
        ).all()
        audit = s.execute(
            select(AuditEvent.id, AuditEvent.kind, AuditEvent.task_id)
            .where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.id)
        ).all()
        return (row.state, row.revision, row.status, row.updated_at), human, audit


def test_a_task_completed_twice_gets_a_conflict_the_second_time(world, funding_review):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    before = snapshot(world, instance.id)
    with pytest.raises(Conflict, match="already completed"):
        tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    assert snapshot(world, instance.id) == before


def test_two_concurrent_completions_of_one_task_one_wins_one_conflicts(world, funding_review):
    instance = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    review = only_task(world, EFP, instance.id)
    efp = world.user(EFP)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def complete(decision):
        uow = world.uow()
        barrier.wait()
        try:
            outcomes.append(tasks.complete_task(uow, efp, review.id, {"decision": decision}))
        except Conflict as error:
            outcomes.append(error)

    threads = [threading.Thread(target=complete, args=(d,)) for d in ("recommend", "reject")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    winners = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(outcomes) == 2 and len(winners) == 1, outcomes
    after = instances.get_instance(world.uow(), efp, instance.id)
    completions = [e for e in after.events if e.kind == "completed_task" and e.task_id == review.id]
    assert len(completions) == 1
    if winners[0].status == "running":  # "recommend" won: the approval is the one open task
        assert [t.title for t in after.tasks] == ["Approve the funds"]
    else:
        assert after.status == "completed" and after.tasks == []


def test_a_crash_between_the_engine_step_and_the_commit_leaves_everything_as_before(world, funding_review, monkeypatch):
    instance = start(world)
    draft = only_task(world, PD_HTI, instance.id)
    before = snapshot(world, instance.id)

    def crash(self):
        self.session.flush()  # the step ran and its rows went to the database, uncommitted
        raise RuntimeError("power cut")

    monkeypatch.setattr(Transaction, "commit", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    monkeypatch.undo()

    assert snapshot(world, instance.id) == before
    # And the task can still be done for real afterwards.
    after = tasks.complete_task(world.uow(), world.user(PD_HTI), draft.id, DRAFT)
    assert [t.title for t in after.tasks] == ["Review the request"]


def test_a_script_failing_at_run_time_names_its_element_and_commits_nothing(world):
    from engine.errors import ProcessFailure
    from tests.engine.conftest import diagram, publish
    from tests.engine.work.test_instances import APPROVER

    publish(
        world,
        diagram(
            "funding_review.bpmn",
            **{"reference = 'FR-' + office + '-' + str(int(amount))": "reference = 'FR-' + funding_code"},
        ),
    )
    instance = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "recommend"})
    approval = only_task(world, APPROVER, instance.id)
    before = snapshot(world, instance.id)

    with pytest.raises(ProcessFailure) as failed:
        tasks.complete_task(world.uow(), world.user(APPROVER), approval.id, {})
    assert failed.value.element == "set_reference" and "funding_code" in str(failed.value)
    assert snapshot(world, instance.id) == before
