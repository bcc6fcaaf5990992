"""The `timer` table: it mirrors every waiting timer event of every instance (with its due time,
read from SpiffWorkflow), and due rows are claimed by the ticker's workers.

Exactly once: a timer fires inside the transaction that locks its instance and re-reads its row;
whoever comes second (another worker, an expired claim taken over) finds it fired and does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select

from ..bpmn import events
from ..bpmn.timers import attached_activity, timer_instant, waiting_timers
from ..store import leases
from ..store.models import ProcessInstance, Timer
from ..store.uow import Transaction
from . import audit

CLAIM_SECONDS = 60
MAX_ATTEMPTS = 5


@dataclass
class TimerChanges:
    """What one unit of work did to an instance's timers."""

    fired: list[Timer] = field(default_factory=list)
    added: list[Timer] = field(default_factory=list)


def sync_timers(tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow) -> TimerChanges:
    """Mirror the waiting timers; rows whose occurrence passed are marked fired (with audit and
    SLA breach), rows the step cancelled are deleted — all in the caller's transaction."""
    session = tx.session
    waiting = {(str(t.id), timer_instant(t.internal_data["event_value"])): t for t in waiting_timers(workflow)}
    changes = TimerChanges()
    if not waiting and not events.uses(workflow, TimerEventDefinition):
        return changes  # a process without timers has no timer rows to look at
    for row in session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.state == "pending")):
        if (row.task_id, row.due_at) in waiting:
            waiting.pop((row.task_id, row.due_at))
        elif _occurred(workflow, row):
            row.state, row.fired_at, row.claimed_by, row.claim_expires_at = "fired", tx.now(), None, None
            _record_fired(tx, instance, row)
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


def _record_fired(tx: Transaction, instance: ProcessInstance, row: Timer) -> None:
    breach = row.interrupting
    if breach:
        instance.sla_breached = True
    audit.record(
        tx,
        instance.id,
        "timer_fired",
        outcome="escalated" if breach else "reminded" if row.attached_to else None,
        data={"element_id": row.element_id, "title": row.title, "due_at": row.due_at.isoformat()},
    )


# --- the ticker's side -------------------------------------------------------------------------


def claim_due(tx: Transaction, owner: str, *, limit: int = 50, lease_seconds: float = CLAIM_SECONDS) -> list[int]:
    """Claim up to `limit` due timers for `owner` (skipping rows other workers hold)."""
    due = (Timer.state == "pending") & (Timer.due_at < tx.now())
    return leases.claim(
        tx, Timer, due, order_by=(Timer.due_at,), owner=owner, limit=limit, lease=timedelta(seconds=lease_seconds)
    )


def next_due(tx: Transaction) -> datetime | None:
    """The earliest pending due time (claimed or not), for the scheduler's next wake-up."""
    return tx.session.scalar(select(func.min(Timer.due_at)).where(Timer.state == "pending"))


def record_failure(tx: Transaction, timer_id: int, error: Exception) -> None:
    """A timer whose firing fails is retried with backoff, then parked as failed for an admin."""
    row = tx.session.get(Timer, timer_id)
    if row is None:
        return
    row.attempts += 1
    row.last_error = str(error)[:2000]
    row.claimed_by = None
    if row.attempts >= MAX_ATTEMPTS:
        row.state = "failed"
    else:
        row.claim_expires_at = tx.now() + leases.retry_delay(row.attempts)
