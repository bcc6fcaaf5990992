"""Message events in a SpiffWorkflow workflow: what a catch event correlates on, the catch events
waiting, starting a workflow at a message start event, and handing a payload to a catch event."""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import StartEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from .case_fields import without_owned
from .events import start_events

CORRELATE_PROPERTY = "correlateOn"


def correlate_on(task_spec) -> str | None:
    """The variable a catch event correlates on (its `correlateOn` property), or None."""
    value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(CORRELATE_PROPERTY)
    return value.strip() if value and value.strip() else None


def json_safe(payload: Any) -> dict[str, Any]:
    """A payload as stored and shown: a JSON object; anything else is wrapped, unknown types become text."""
    value = payload if isinstance(payload, dict) else {"value": payload}
    return json.loads(json.dumps(value, default=str))


def thrown(workflow: BpmnWorkflow) -> list[tuple[str, dict[str, Any]]]:
    """The messages the last step threw that no part of the workflow caught: (name, payload)."""
    return [
        (event.event_definition.name, json_safe(event.payload))
        for event in workflow.get_events()
        if isinstance(event.event_definition, MessageEventDefinition)
    ]


def waiting_catches(workflow: BpmnWorkflow):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and not isinstance(task.task_spec, StartEvent):
            yield task


def message_start_event(spec, name: str):
    for event in start_events(spec):
        definition = getattr(event, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            return event
    return None


def message_start_names(spec) -> set[str]:
    return {
        event.event_definition.name
        for event in start_events(spec)
        if isinstance(getattr(event, "event_definition", None), MessageEventDefinition)
    }


def begin_with_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    """Make a new workflow begin at its message start event `name`, not at any other start event."""
    # Run only the engine's own start tasks: a none start event must not fire first.
    workflow.task_tree.run()
    for task in workflow.get_tasks(state=TaskState.READY):
        if isinstance(task.task_spec, StartEventSplit):
            task.run()
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.FUTURE):
        if isinstance(task.task_spec, StartEvent) and isinstance(
            getattr(task.task_spec, "event_definition", None), MessageEventDefinition
        ):
            task._set_state(TaskState.WAITING)
    start = _waiting_start(workflow, name)
    if start is None:
        raise ValueError(f"the process does not start on the message {name}")
    catch(workflow, start, payload)
    for task in workflow.get_tasks():
        if isinstance(task.task_spec, StartEvent) and task is not start and not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()


def catch(workflow: BpmnWorkflow, waiting, payload: dict[str, Any]) -> None:
    """Hand the payload to a waiting catch event. Unless the diagram names a variable to receive it
    (spiffworkflow:messageVariable), its fields become task data, as a form's fields do; never
    the fields the engine owns (engine.bpmn.case_fields): a payload's `office` is not the case's."""
    payload = without_owned(payload)
    definition = waiting.task_spec.event_definition
    workflow.send_event(BpmnEvent(definition, payload))
    if getattr(definition, "message_var", None) is None:
        waiting.set_data(**payload)


def _waiting_start(workflow: BpmnWorkflow, name: str):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if (
            isinstance(task.task_spec, StartEvent)
            and isinstance(definition, MessageEventDefinition)
            and definition.name == name
        ):
            return task
    return None
