"""Human tasks: the inbox, claiming, releasing and completing."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, false, or_, select, tuple_

from forms.validation import editable, field_errors

from . import audit, definitions, mail, messages, org, runtime
from .errors import Conflict, InvalidData, NotFound, PermissionDenied
from .instances import instance_view
from .models import HumanTask, ProcessInstance, User
from .uow import UnitOfWork
from .views import InstanceView, TaskView


def inbox(uow: UnitOfWork, actor_id: int, *, limit: int = 500) -> list[TaskView]:
    """Open tasks assigned to the actor and those the actor's roles may claim, soonest due first."""
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        claimable = (
            and_(
                HumanTask.assignee_id.is_(None),
                tuple_(HumanTask.candidate_role, HumanTask.candidate_office).in_(list(actor.memberships)),
            )
            if actor.memberships
            else false()
        )
        rows = uow.session.execute(
            select(HumanTask, ProcessInstance.title)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(HumanTask.state == "open", or_(HumanTask.assignee_id == actor.id, claimable))
            .order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
            .limit(limit)
        ).all()
        return [TaskView.of(task, title) for task, title in rows]


def get_task(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskView:
    """A task the actor may see, with its form's JSON Schema."""
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        task = _visible_task(uow, actor, task_id)
        instance = uow.session.get(ProcessInstance, task.instance_id)
        form = definitions.load_version(instance.process_version).form(task.form_key)
        return TaskView.of(task, instance.title, form)


def claim_task(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskView:
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        task = _visible_task(uow, actor, task_id, lock=True)
        _require_open(uow, task)
        if task.assignee_id == actor.id:
            return _task_view(uow, task)
        if task.assignee_id is not None:
            raise Conflict(f"the task is already claimed by {_name(uow, task.assignee_id)}")
        if not _is_candidate(actor, task):
            raise PermissionDenied(f"this task is for {task.lane} in {task.candidate_office}")
        task.assignee_id = actor.id
        audit.record(uow, task.instance_id, "claimed", actor_id=actor.id, task=task)
        view = _task_view(uow, task)
        uow.commit()
        return view


def release_task(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskView:
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        task = _visible_task(uow, actor, task_id, lock=True)
        _require_open(uow, task)
        if task.assignee_id != actor.id:
            raise PermissionDenied("only the person who holds a task can release it")
        if task.candidate_role is None:
            raise Conflict("this task belongs to you alone and cannot be released")
        task.assignee_id = None
        audit.record(uow, task.instance_id, "released", actor_id=actor.id, task=task)
        view = _task_view(uow, task)
        uow.commit()
        return view


def complete_task(uow: UnitOfWork, actor_id: int, task_id: str, data: dict[str, Any] | None = None) -> InstanceView:
    """Submit the task's form; returns the instance with its next open tasks."""
    data = dict(data or {}) if isinstance(data, dict) else data
    with uow:
        session = uow.session
        actor = org.load_actor(session, actor_id)
        task = _visible_task(uow, actor, task_id)
        # Lock the instance, then read the task again: whoever got here first has now committed.
        instance = session.scalar(
            select(ProcessInstance).where(ProcessInstance.id == task.instance_id).with_for_update(of=ProcessInstance)
        )
        session.refresh(task)
        _require_open(uow, task)
        if not (task.assignee_id == actor.id or (task.assignee_id is None and _is_candidate(actor, task))):
            if task.assignee_id is not None:
                raise PermissionDenied(f"the task is claimed by {_name(uow, task.assignee_id)}")
            raise PermissionDenied(f"this task is for {task.lane} in {task.candidate_office}")

        loaded = definitions.load_version(instance.process_version)
        form = loaded.form(task.form_key)
        data = editable(form, data)
        errors = field_errors(form, data)
        if errors:
            raise InvalidData("the form has errors", errors)

        workflow = runtime.load_workflow(instance, loaded)
        spiff_task = runtime.find_task(workflow, task.id)
        if spiff_task is None or not spiff_task.has_state(TaskState.READY):
            raise Conflict("the task is no longer open")
        runtime.run_task(workflow, spiff_task, data, uow.now())

        task.assignee_id = task.assignee_id or actor.id
        task.state, task.completed_at, task.completed_by_id = "completed", uow.now(), actor.id
        audit.record(
            uow, instance.id, "completed_task", actor_id=actor.id, task=task, outcome=_outcome(data), data=data or None
        )
        returned = mail.sends_back(data)
        changes = runtime.persist(uow, instance, workflow, returned_by=actor.name if returned else None)
        if instance.status == "completed":
            audit.record(uow, instance.id, "completed")
        session.flush()
        view = instance_view(uow, instance, workflow)
        uow.commit()
    messages.deliver_after_commit(uow, changes.to_deliver)
    return view


def _outcome(data: dict[str, Any]) -> str | None:
    for name, value in data.items():
        if mail.is_outcome_field(name) and isinstance(value, (str, int, float, bool)):
            return str(value)[:200]
    return None


def _visible_task(uow: UnitOfWork, actor: org.Actor, task_id: str, *, lock: bool = False) -> HumanTask:
    query = select(HumanTask).where(HumanTask.id == str(task_id))
    task = uow.session.scalar(query.with_for_update() if lock else query)
    if task is None or not (
        actor.sees_office(task.office_code) or task.assignee_id == actor.id or _is_candidate(actor, task)
    ):
        raise NotFound(f"no task {task_id}")
    return task


def _is_candidate(actor: org.Actor, task: HumanTask) -> bool:
    return task.candidate_role is not None and actor.holds(task.candidate_role, task.candidate_office)


def _require_open(uow: UnitOfWork, task: HumanTask) -> None:
    if task.state == "completed":
        who = _name(uow, task.completed_by_id) if task.completed_by_id else "the process"
        raise Conflict(f"the task was already completed by {who}")
    if task.state != "open":
        raise Conflict("the task is no longer open (the process moved on)")


def _name(uow: UnitOfWork, user_id: int | None) -> str:
    user = uow.session.get(User, user_id) if user_id else None
    return user.name if user else "someone else"


def _task_view(uow: UnitOfWork, task: HumanTask) -> TaskView:
    instance = uow.session.get(ProcessInstance, task.instance_id)
    return TaskView.of(task, instance.title)
