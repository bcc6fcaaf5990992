"""Timer events in a SpiffWorkflow workflow: when each waiting one is due, what it is attached to,
the activities a task runs inside, and cycles that missed occurrences while nothing ran."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


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
