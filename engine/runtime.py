"""Running SpiffWorkflow inside a unit of work: creating and loading workflows, advancing them,
and projecting their ready human tasks into the `human_task` table."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from . import bpmn, mail, messages, org, state, timers
from .definitions import LoadedVersion
from .errors import ProcessFailure, ScriptRefused
from .models import HumanTask, Office, ProcessInstance
from .scripting import make_script_engine
from .uow import UnitOfWork

# SpiffWorkflow logs whole task data at INFO on every state change: personal data must not leak.
logging.getLogger("spiff").setLevel(logging.WARNING)


def new_workflow(loaded: LoadedVersion) -> BpmnWorkflow:
    return BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=make_script_engine())


def load_workflow(instance: ProcessInstance, loaded: LoadedVersion) -> BpmnWorkflow:
    workflow = state.load(instance.state, loaded.spec, loaded.subprocess_specs)
    workflow.script_engine = make_script_engine()
    return workflow


def advance(workflow: BpmnWorkflow, now: datetime) -> None:
    """Fire what is due and run every engine step that needs no person; a failing step becomes
    ProcessFailure."""
    with failures_as_process_errors():
        timers.skip_missed_cycles(workflow, now)
        workflow.refresh_timers()
        workflow.do_engine_steps()


def run_task(workflow: BpmnWorkflow, task: Task, data: dict, now: datetime) -> None:
    with failures_as_process_errors():
        timers.skip_missed_cycles(workflow, now)
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()


class failures_as_process_errors:
    """Translate the library's exceptions into ProcessFailure naming the element."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _tb):
        if error is None or not isinstance(error, (SpiffWorkflowException, ScriptRefused)):
            return False
        task = getattr(error, "task", None)
        spec = getattr(task, "task_spec", None) or getattr(error, "task_spec", None)
        element = getattr(spec, "bpmn_id", None) or getattr(spec, "name", None)
        message = str(error) or type(error).__name__
        raise ProcessFailure(element, message) from error


def ready_human_tasks(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (TaskNotFoundException, ValueError):
        return None


def due_time(task: Task) -> datetime | None:
    """When a human task is due: the earliest escalation timer on it or on a sub-process around it,
    else its earliest reminder."""
    interrupting, other = [], []
    for activity in timers.enclosing_activities(task):
        for sibling in activity.parent.children if activity.parent is not None else []:
            definition = getattr(sibling.task_spec, "event_definition", None)
            value = sibling.internal_data.get("event_value")
            if (
                isinstance(definition, TimerEventDefinition)
                and sibling.has_state(TaskState.WAITING)
                and value is not None
            ):
                when = timers.timer_instant(value)
                (interrupting if getattr(sibling.task_spec, "cancel_activity", False) else other).append(when)
    candidates = interrupting or other
    return min(candidates) if candidates else None


def sync_human_tasks(uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[HumanTask]:
    """Bring the projection in line with the workflow; returns the tasks that became open."""
    session = uow.session
    ready = {str(t.id): t for t in ready_human_tasks(workflow)}
    open_rows = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
    ).all()
    for row in open_rows:
        if row.id in ready:
            row.due_at = due_time(ready.pop(row.id))
            continue
        task = find_task(workflow, row.id)
        row.state = "completed" if task is not None and task.has_state(TaskState.COMPLETED) else "cancelled"
        row.completed_at = uow.now()

    office = session.get(Office, instance.office_code)
    created = []
    for task_id, task in ready.items():
        lane = task.task_spec.lane
        row = HumanTask(
            id=task_id,
            instance_id=instance.id,
            process_id=instance.process_id,
            element_id=task.task_spec.bpmn_id or task.task_spec.name,
            title=task.task_spec.bpmn_name or task.task_spec.bpmn_id or "Task",
            lane=lane,
            form_key=bpmn.form_key(task.task_spec),
            office_code=instance.office_code,
            candidate_role=lane,
            candidate_office=org.candidate_office(session, lane, office),
            # A task in no lane belongs to whoever started the instance.
            assignee_id=None if lane else instance.started_by_id,
            state="open",
            created_at=uow.now(),
            due_at=due_time(task),
        )
        session.add(row)
        created.append(row)
    return created


@dataclass
class Changes:
    """What a unit of work changed besides the state: tasks opened, timers fired."""

    opened: list[HumanTask]
    timers: timers.TimerChanges
    to_deliver: list  # engine.models.Message rows thrown or woken, delivered after the commit


def persist(
    uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow, *, returned_by: str | None = None
) -> Changes:
    """Store the state, bring every projection (human tasks, timers) in line with it and queue
    the emails the step causes. `returned_by` names who sent work back for revision."""
    save(uow, instance, workflow)
    timer_changes = timers.sync_timers(uow, instance, workflow)
    opened = sync_human_tasks(uow, instance, workflow)
    to_deliver = messages.record_thrown(uow, instance, workflow)
    to_deliver += messages.sync_subscriptions(uow, instance, workflow)
    mail.queue_for_opened_tasks(uow, instance, opened, returned_by=returned_by)
    mail.queue_for_fired_timers(uow, instance, workflow, timer_changes.fired)
    return Changes(opened, timer_changes, to_deliver)


def save(uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    instance.state = state.dump(workflow)
    instance.updated_at = uow.now()
    if workflow.is_completed() and instance.status != "completed":
        instance.status = "completed"
        instance.completed_at = uow.now()
