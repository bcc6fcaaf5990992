"""Which events a process uses, and where it starts: read once per parsed spec."""

from __future__ import annotations

import threading
import weakref

from SpiffWorkflow.bpmn.specs.control import StartEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition

# Specs are shared and immutable: what they use is computed once per spec, kept beside it (not on it).
_kinds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_kinds_lock = threading.Lock()


def event_kinds(workflow) -> frozenset[type]:
    """The event definition types a workflow's process (and its sub-processes) use, so a unit of
    work can skip looking for rows of kinds the process cannot have (no timer rows without timer
    events)."""
    spec = workflow.spec
    kinds = _kinds.get(spec)
    if kinds is None:
        specs = [spec, *workflow.subprocess_specs.values()]
        kinds = frozenset(
            type(task_spec.event_definition)
            for each in specs
            for task_spec in each.task_specs.values()
            if getattr(task_spec, "event_definition", None) is not None
        )
        with _kinds_lock:
            _kinds[spec] = kinds
    return kinds


def uses(workflow, definition_type: type) -> bool:
    return any(issubclass(kind, definition_type) for kind in event_kinds(workflow))


def start_events(spec) -> list:
    """The start events of a process spec (behind the split SpiffWorkflow adds when there are several)."""
    found = []
    for output in spec.start.outputs:
        found += output.outputs if isinstance(output, StartEventSplit) else [output]
    return found


def none_start_event(spec):
    """The process's none start event (the one a person starts), or None."""
    for event in start_events(spec):
        if isinstance(getattr(event, "event_definition", None), NoneEventDefinition):
            return event
    return None
