"""Which emails a step causes, and to whom: decided by the diagram, queued in the step's unit of work.

- A task that opens: "task assigned" to its assignee or the holders of its lane's role (or
  "returned for revision" when the step that opened it sent the work back).
- A reminder (non-interrupting timer on a task): to the task's assignee or candidates.
- An escalation (interrupting timer on a task): to the task's people and to the roles the timer
  event names in its `notifyRoles` property (e.g. "Regional Director, MEFM Approver").
"""

from __future__ import annotations

from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.exceptions import TaskNotFoundException
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import notifications, timers
from .models import HumanTask, ProcessInstance, Timer, User
from .uow import UnitOfWork

# Decisions that send work back to whoever prepared it.
RETURN_DECISIONS = frozenset({"return", "returned", "revision_required", "return_with_comments"})
NOTIFY_PROPERTY = "notifyRoles"
# Fields that carry a task's outcome: `decision`, `outcome`, `recommendation`, or any `*_decision`
# / `*_recommendation` (e.g. `regional_recommendation`).
OUTCOME_NAMES = ("decision", "outcome", "recommendation")


def is_outcome_field(name: str) -> bool:
    return name in OUTCOME_NAMES or name.endswith(("_decision", "_recommendation"))


def sends_back(data: dict) -> bool:
    """Did this submission send the work back for revision?"""
    return any(is_outcome_field(name) and value in RETURN_DECISIONS for name, value in data.items())


def queue_for_opened_tasks(
    uow: UnitOfWork, instance: ProcessInstance, opened: list[HumanTask], *, returned_by: str | None = None
) -> None:
    kind = "returned" if returned_by else "task_assigned"
    for task in opened:
        people = notifications.recipients(
            uow.session, task.candidate_role, instance.office_code, assignee_id=task.assignee_id
        )
        notifications.queue(
            uow,
            kind=kind,
            recipients=people,
            dedupe_key=f"task:{task.id}:{kind}",
            instance=instance,
            task_id=task.id,
            task_title=task.title,
            context={"due_at": task.due_at, "by": returned_by},
        )


def queue_for_fired_timers(
    uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow, fired: list[Timer]
) -> None:
    for timer in fired:
        if timer.attached_to is None:
            continue  # a timer on the flow itself (a wait), not an SLA on somebody's work
        kind = "escalation" if timer.interrupting else "reminder"
        tasks = _tasks_under(uow, instance, workflow, timer.attached_to, escalated=timer.interrupting)
        if not tasks:
            continue
        people = [
            user
            for task in tasks
            for user in notifications.recipients(
                uow.session, task.candidate_role, instance.office_code, assignee_id=task.assignee_id
            )
        ]
        people = _unique(people + _notified_roles(uow.session, instance, workflow, timer))
        first = tasks[0]
        notifications.queue(
            uow,
            kind=kind,
            recipients=people,
            dedupe_key=f"timer:{timer.id}:{kind}",
            instance=instance,
            task_id=first.id if kind == "reminder" else None,
            task_title=first.title,
            context={"due_at": first.due_at},
        )


def _tasks_under(
    uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow, activity_id: str, *, escalated: bool
) -> list[HumanTask]:
    """The human tasks a timer on `activity_id` is about: the task itself, or the ones inside the
    sub-process; those still open for a reminder, those the escalation just cancelled."""
    state = "cancelled" if escalated else "open"
    query = select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == state)
    if escalated:
        query = query.where(HumanTask.completed_at == uow.now())
    found = []
    for task in uow.session.scalars(query.order_by(HumanTask.created_at, HumanTask.id)):
        if task.id == activity_id:
            found.append(task)
            continue
        try:
            spiff_task = workflow.get_task_from_id(UUID(task.id))
        except TaskNotFoundException:
            continue
        if activity_id in {str(t.id) for t in timers.enclosing_activities(spiff_task)}:
            found.append(task)
    return found


def notify_roles(task_spec) -> list[str]:
    """The roles a timer event names in its `notifyRoles` property."""
    value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(NOTIFY_PROPERTY, "")
    return [role.strip() for role in value.split(",") if role.strip()]


def _notified_roles(session: Session, instance: ProcessInstance, workflow: BpmnWorkflow, timer: Timer) -> list[User]:
    try:
        roles = notify_roles(workflow.get_task_from_id(UUID(timer.task_id)).task_spec)
    except TaskNotFoundException:
        roles = []
    return [user for role in roles for user in notifications.recipients(session, role, instance.office_code)]


def _unique(users: list[User]) -> list[User]:
    seen: dict[int, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())
