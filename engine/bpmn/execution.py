"""Running a SpiffWorkflow workflow, with no database: creating one in the restricted script
environment, firing what is due, running a task, and reading where it stands. The runtime (with
the database) and the dry run (in memory) both run workflows through these functions."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from ..errors import ProcessFailure, ScriptRefused
from . import budget, serializer, task_tree
from .scripting import make_script_engine
from .timers import enclosing_activities, skip_missed_cycles, timer_instant

# SpiffWorkflow logs whole task data at INFO on every state change: personal data must not leak.
logging.getLogger("spiff").setLevel(logging.WARNING)


def new_workflow(spec, subprocess_specs: dict) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=make_script_engine())


def restore(state: str, spec, subprocess_specs: dict) -> BpmnWorkflow:
    workflow = serializer.load(state, spec, subprocess_specs)
    workflow.script_engine = make_script_engine()
    task_tree.compact(workflow)  # what earlier steps finished in a plain chain (a loop's rounds)
    return workflow


def advance(workflow: BpmnWorkflow, now: datetime) -> None:
    """Fire what is due and run every engine step that needs no person; a failing step becomes
    ProcessFailure, one past its budget BudgetExceeded (engine.bpmn.budget)."""
    with failures_as_process_errors(), budget.metered() as meter:
        skip_missed_cycles(workflow, now)
        workflow.refresh_timers()
        task_tree.run_engine_steps(workflow, meter.before, meter.after)


def run_task(workflow: BpmnWorkflow, task: Task, data: dict, now: datetime) -> None:
    with failures_as_process_errors(), budget.metered() as meter:
        skip_missed_cycles(workflow, now)
        task.set_data(**data)
        meter.before(task)
        task.run()
        task_tree.run_engine_steps(workflow, meter.before, meter.after)


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
        raise ProcessFailure(element, message, name=getattr(spec, "bpmn_name", None)) from error


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
    for activity in enclosing_activities(task):
        for sibling in activity.parent.children if activity.parent is not None else []:
            definition = getattr(sibling.task_spec, "event_definition", None)
            value = sibling.internal_data.get("event_value")
            if (
                isinstance(definition, TimerEventDefinition)
                and sibling.has_state(TaskState.WAITING)
                and value is not None
            ):
                when = timer_instant(value)
                (interrupting if getattr(sibling.task_spec, "cancel_activity", False) else other).append(when)
    candidates = interrupting or other
    return min(candidates) if candidates else None


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data as the work stands: the process's result once it ended; else what the most recently
    opened step sees (a task waiting for a person, in a sub-process or a called process too), else
    the last step run. SpiffWorkflow's `last_task` alone can be an engine control task that ran
    before a script changed the data (after a message start)."""
    if workflow.is_completed():
        return dict(workflow.data)
    ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    if ready:
        return dict(max(ready, key=lambda t: t.last_state_change).data)
    last = workflow.last_task
    return dict(last.data) if last is not None else dict(workflow.data)
