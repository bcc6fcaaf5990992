"""Timer events in a SpiffWorkflow workflow: what a timer's text may say (checked when a diagram is
validated and again when a timer's expression is evaluated), when each waiting one is due, what it
is attached to, the activities a task runs inside, and cycles that missed occurrences while nothing ran."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

MAX_TIMER_YEARS = 100  # how far ahead a timer may be due: past it, a typo (or an overflow) is likelier
_MAX_AHEAD = timedelta(days=366 * MAX_TIMER_YEARS)
_MAX_TEXT = 100
TIMER_EXAMPLES = {
    "timeDate": "a date-time with a zone such as 2030-01-31T09:00:00Z",
    "timeDuration": "a duration such as PT48H",
    "timeCycle": "a cycle such as R3/PT1H",
}
_KIND_OF_DEFINITION = {
    TimeDateEventDefinition: "timeDate",
    DurationTimerEventDefinition: "timeDuration",
    CycleTimerEventDefinition: "timeCycle",
}
_DURATION = re.compile(r"P[0-9YMWDTHS.,]+", re.IGNORECASE)
_SECONDS = {"weeks": 7 * 86400, "days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}


class _TooFar(Exception):
    pass


def kind_of(definition: object) -> str | None:
    """timeDate, timeDuration or timeCycle for a timer event definition, else None."""
    return next((kind for cls, kind in _KIND_OF_DEFINITION.items() if isinstance(definition, cls)), None)


def now() -> datetime:
    """Now as SpiffWorkflow's timers see it (the clock of the running unit of work, engine.clock)."""
    return spiff_timer.datetime.now(timezone.utc)


def timer_value_problem(kind: str, value: object, at: datetime) -> str | None:
    """None if `value` (a timer's text, or what its expression gave) is a valid timeDate,
    timeDuration or timeCycle, due at most MAX_TIMER_YEARS after `at`; else why not. Checked before
    SpiffWorkflow reads it: on junk the library raises bare exceptions, overflows or loops for long."""
    needs = f"{kind} needs {TIMER_EXAMPLES[kind]}"
    if not isinstance(value, str):
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
        return f"timer value {shown} is not a text ({needs})"
    text = value.strip()
    try:
        if len(text) > _MAX_TEXT:
            raise ValueError(text)
        due = _due(kind, text, at)
    except _TooFar:
        return f"timer {text!r} would be due more than {MAX_TIMER_YEARS} years from now"
    except Exception:  # SpiffWorkflow reports bad text with bare Exception, ValueError, AttributeError...
        shown = text if len(text) <= 40 else text[:37] + "..."
        return f"timer text is not valid ISO 8601: {shown!r} ({needs})"
    if isinstance(due, str):
        return due
    return f"timer {text!r} would be due more than {MAX_TIMER_YEARS} years from now" if due - at > _MAX_AHEAD else None


def _due(kind: str, text: str, at: datetime) -> datetime | str:
    if kind == "timeDuration":
        return _after(at, text)
    if kind == "timeDate":
        if datetime.fromisoformat(text).tzinfo is None:
            return f"timer date {text!r} has no time zone; add Z or an offset such as +01:00"
        return TimerEventDefinition.get_datetime(text)
    if not text.upper().startswith("R"):
        raise ValueError(text)
    for part in text.upper().replace("--", "/").strip("R").split("/")[1:]:
        if part.startswith("P"):
            _after(at, part)  # before the library's month-by-month loop over it
    cycles, start, step = TimerEventDefinition.parse_iso_recurring_interval(text)
    if step <= timedelta(0):
        return f"timer cycle {text!r} repeats at no interval; give it a duration longer than zero"
    return start


def _after(at: datetime, text: str) -> datetime:
    """`at` plus an ISO 8601 duration, refusing one past the limit before it is computed."""
    if not _DURATION.fullmatch(text):
        raise ValueError(text)
    parsed = TimerEventDefinition.parse_iso_duration(text)
    months = parsed.get("years", 0) * 12 + parsed.get("months", 0)
    seconds = sum(parsed.get(unit, 0) * factor for unit, factor in _SECONDS.items())
    if months > MAX_TIMER_YEARS * 12 or seconds > _MAX_AHEAD.total_seconds():
        raise _TooFar(text)
    try:
        return at + TimerEventDefinition.get_timedelta_from_start(dict(parsed), at)
    except OverflowError as error:
        raise _TooFar(text) from error


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
