"""One step of an instance: the state stored and every projection in line with it, in the unit of
work of the action; the end of the process recorded once."""

from __future__ import annotations

from sqlalchemy import select

from engine.store.models import AuditEvent, HumanTask, ProcessInstance
from engine.work import tasks
from tests.engine.work.test_instances import APPROVER, DRAFT, EFP, PD_HTI, only_task, start


def rows(world, instance_id):
    with world.uow() as tx:
        found = tx.session.scalars(
            select(HumanTask).where(HumanTask.instance_id == instance_id).order_by(HumanTask.created_at)
        )
        return sorted((t.title, t.candidate_role, t.candidate_office, t.state) for t in found)


def test_each_ready_task_is_a_row_for_its_lane_held_where_the_role_is_held(world, funding_review):
    instance = start(world)
    assert rows(world, instance.id) == [("Draft the request", "Project Developer", "HTI", "open")]
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    assert rows(world, instance.id) == [
        ("Draft the request", "Project Developer", "HTI", "completed"),
        ("Review the request", "Emergency Focal Point", "RO-AMERICAS", "open"),
    ]


def test_the_end_of_the_process_is_stored_with_its_state_and_recorded_once(world, funding_review):
    instance = start(world)
    tasks.complete_task(world.uow(), world.user(PD_HTI), only_task(world, PD_HTI, instance.id).id, DRAFT)
    tasks.complete_task(world.uow(), world.user(EFP), only_task(world, EFP, instance.id).id, {"decision": "recommend"})
    tasks.complete_task(world.uow(), world.user(APPROVER), only_task(world, APPROVER, instance.id).id, {})
    with world.uow() as tx:
        row = tx.session.get(ProcessInstance, instance.id)
        kinds = list(tx.session.scalars(select(AuditEvent.kind).where(AuditEvent.instance_id == instance.id)))
        assert row.status == "completed" and row.completed_at == world.clock.now() and '"completed"' in row.state
        assert kinds.count("completed") == 1
        assert (
            tx.session.scalars(select(HumanTask.state).where(HumanTask.instance_id == instance.id)).all()
            == ["completed"] * 3
        )
