"""Durable timers: the `timer` table mirrors every waiting timer event of every instance, and
firing a due timer is one unit of work on its instance.

Exactly once: a timer fires inside the transaction that locks its instance and re-reads its row;
whoever comes second (another worker, an expired claim taken over) finds it fired and does nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update

from . import audit, bpmn
from .models import ProcessInstance, Timer
from .uow import Database, UnitOfWork

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 5


def timer_instant(value) -> datetime:
    """The due instant of a timer's stored event value (a cycle's next occurrence)."""
    if isinstance(value, dict):
        value = value.get("next")
    return TimerEventDefinition.get_datetime(value)


def waiting_timers(workflow: BpmnWorkflow) -> list[Task]:
    return [
        t
        for t in workflow.get_tasks(state=TaskState.WAITING)
        if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)
        and t.internal_data.get("event_value") is not None
    ]


def attached_activity(timer_task: Task) -> Task | None:
    """The activity (a task or a sub-process) a boundary timer is attached to, if any."""
    parent = timer_task.parent
    if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
        return None  # a timer on the flow itself (a wait), attached to nothing
    for sibling in parent.children:
        # The activity may itself be an event-like task (a receive task catches a message).
        if sibling is not timer_task and not isinstance(sibling.task_spec, BoundaryEvent):
            return sibling
    return None


def enclosing_activities(task: Task) -> list[Task]:
    """The task, then each sub-process or call activity it runs inside, innermost first."""
    chain = [task]
    workflow = task.workflow
    while getattr(workflow, "parent_task_id", None) is not None:
        outer = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
        chain.append(outer)
        workflow = outer.workflow
    return chain


def skip_missed_cycles(workflow: BpmnWorkflow, now: datetime) -> None:
    """After downtime a cycle timer fires once, not once per missed interval: move its next
    occurrence to the last one that is due, so a single refresh fires it and moves past now."""
    for task in waiting_timers(workflow):
        if not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
            continue
        value = task.internal_data["event_value"]
        due, step = timer_instant(value), value.get("duration") or 0
        if value.get("cycles") == 0 or step <= 0 or due >= now:
            continue
        missed = math.floor((now - due).total_seconds() / step)
        if missed > 0:
            value["next"] = (due + timedelta(seconds=missed * step)).isoformat()
            if value["cycles"] > 0:
                value["cycles"] = max(value["cycles"] - missed, 1)


@dataclass
class TimerChanges:
    """What one unit of work did to an instance's timers."""

    fired: list[Timer] = field(default_factory=list)
    added: list[Timer] = field(default_factory=list)


def sync_timers(uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow) -> TimerChanges:
    """Mirror the waiting timers; rows whose occurrence passed are marked fired (with audit and
    SLA breach), rows the step cancelled are deleted — all in the caller's transaction."""
    session = uow.session
    waiting = {(str(t.id), timer_instant(t.internal_data["event_value"])): t for t in waiting_timers(workflow)}
    changes = TimerChanges()
    if not waiting and not bpmn.uses(workflow, TimerEventDefinition):
        return changes  # a process without timers has no timer rows to look at
    for row in session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.state == "pending")):
        if (row.task_id, row.due_at) in waiting:
            waiting.pop((row.task_id, row.due_at))
        elif _occurred(workflow, row):
            row.state, row.fired_at, row.claimed_by, row.claim_expires_at = "fired", uow.now(), None, None
            _record_fired(uow, instance, row)
            changes.fired.append(row)
        else:
            session.delete(row)
    for (task_id, due), task in waiting.items():
        activity = attached_activity(task)
        row = Timer(
            instance_id=instance.id,
            task_id=task_id,
            element_id=task.task_spec.bpmn_id or task.task_spec.name,
            title=task.task_spec.bpmn_name or task.task_spec.bpmn_id or "Timer",
            attached_to=str(activity.id) if activity is not None else None,
            interrupting=bool(getattr(task.task_spec, "cancel_activity", False)) and activity is not None,
            due_at=due,
            state="pending",
            attempts=0,
        )
        session.add(row)
        changes.added.append(row)
    return changes


def _occurred(workflow: BpmnWorkflow, row: Timer) -> bool:
    """Did this occurrence fire (as opposed to being cancelled with its activity)?"""
    try:
        task = workflow.get_task_from_id(UUID(row.task_id))
    except (TaskNotFoundException, ValueError):
        return False
    if task.has_state(TaskState.WAITING):  # a cycle moved on to its next occurrence
        return timer_instant(task.internal_data["event_value"]) > row.due_at
    if task.has_state(TaskState.CANCELLED):
        # A cycle cancelled with its activity fired if its next occurrence moved past this row.
        value = task.internal_data.get("event_value")
        return isinstance(value, dict) and timer_instant(value) > row.due_at
    return task.has_state(TaskState.COMPLETED | TaskState.READY | TaskState.STARTED)


def _record_fired(uow: UnitOfWork, instance: ProcessInstance, row: Timer) -> None:
    breach = row.interrupting
    if breach:
        instance.sla_breached = True
    audit.record(
        uow,
        instance.id,
        "timer_fired",
        outcome="escalated" if breach else "reminded" if row.attached_to else None,
        data={"element_id": row.element_id, "title": row.title, "due_at": row.due_at.isoformat()},
    )


# --- the ticker's side -------------------------------------------------------------------------


def claim_due(
    database: Database, clock, owner: str, *, limit: int = 50, lease_seconds: float = CLAIM_SECONDS
) -> list[int]:
    """Claim up to `limit` due timers for `owner` (skipping rows other workers hold); commits."""
    with database.unit_of_work(clock) as uow:
        now = uow.now()
        candidates = (
            select(Timer.id)
            .where(
                Timer.state == "pending",
                Timer.due_at < now,
                (Timer.claim_expires_at.is_(None)) | (Timer.claim_expires_at < now),
            )
            .order_by(Timer.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = uow.session.scalars(
            update(Timer)
            .where(Timer.id.in_(candidates.scalar_subquery()))
            .values(claimed_by=owner, claim_expires_at=now + timedelta(seconds=lease_seconds))
            .returning(Timer.id)
        ).all()
        uow.commit()
        return sorted(claimed)


def next_due(database: Database) -> datetime | None:
    """The earliest pending due time (claimed or not), for the scheduler's next wake-up."""
    with database.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.min(Timer.due_at)).where(Timer.state == "pending"))


def due_count(database: Database, at: datetime) -> int:
    with database.unit_of_work(write=False) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(Timer).where(Timer.state == "pending", Timer.due_at < at)
        )
