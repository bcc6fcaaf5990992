"""A dry run of a draft diagram: the workflow runs in memory on a clock that moves only when the
script says so, with answers for its human tasks, and reports the path, tasks, timers, emails and
messages a real instance would produce. Nothing is read from or written to the database.

The run follows a script of steps (the default is `["complete all"]`):
- `"complete"`: complete every human task open now, once (tasks that this opens stay open);
- `"complete all"`: complete rounds until no human task is open;
- `"complete until <element id>"`: complete rounds until that task is open (it stays open);
- `"complete until timer"`: complete rounds until a timer is waiting (an SLA clock runs);
- `"wait <ISO 8601 duration>"`: move the clock and fire, in order, each timer due by then (a timer
  due exactly at the end of the wait fires: waiting PT48H breaches a 48-hour SLA).
`fast_forward="PT36H"` is shorthand for `["complete until timer", "wait PT36H", "complete all"]`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from forms.validation import accepted

from ..bpmn import budget, execution, outcomes
from ..bpmn import timers as timer_events
from ..bpmn.case_fields import engine_fields, own_references, reference_kind, without_owned
from ..bpmn.events import none_start_event
from ..bpmn.loading import load_definitions
from ..bpmn.messages import thrown
from ..bpmn.parser import form_key
from ..bpmn.xml import element_types
from ..clock import FixedClock, using
from ..errors import InvalidDiagram, ProcessFailure
from ..notifications import policy
from ..org.offices import Catalogue
from .samples import minimal_answer

START = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
FORMS_DIR = Path(__file__).resolve().parents[2] / "forms"
CATALOGUE = Catalogue()  # the dry run places roles in the catalogue's offices, as production does in its own
_EPSILON = timedelta(microseconds=1)  # SpiffWorkflow fires a timer only once its due time has passed


@dataclass(frozen=True)
class PathStep:
    element_id: str
    name: str | None
    type: str  # the BPMN element ("userTask", "exclusiveGateway", "subProcess"...)
    at: datetime


@dataclass(frozen=True)
class DryTask:
    element_id: str
    name: str | None
    lane: str | None  # the role
    office: str | None  # where that role is held for the run's office
    form_key: str | None
    opened_at: datetime
    due_at: datetime | None
    state: str  # "completed", "cancelled" (by an escalation) or "open" (where the run stopped)
    closed_at: datetime | None
    data: Mapping[str, Any] | None  # what it was completed with


@dataclass(frozen=True)
class FiredTimer:
    element_id: str
    name: str | None
    at: datetime
    interrupting: bool


@dataclass(frozen=True)
class Email:
    kind: str  # "task_assigned", "returned", "reminder", "escalation", "outcome_approved"...
    to_roles: tuple[tuple[str, str | None], ...]  # (role, office); ("starter", office) for a task in no lane
    task: str  # the element id of the task it is about
    at: datetime


@dataclass(frozen=True)
class ThrownMessage:
    name: str
    payload: Mapping[str, Any]
    at: datetime


@dataclass(frozen=True)
class StepProblem:
    element_id: str | None
    message: str
    fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DryRun:
    path: tuple[PathStep, ...]
    tasks: tuple[DryTask, ...]
    timers: tuple[FiredTimer, ...]
    emails: tuple[Email, ...]
    messages: tuple[ThrownMessage, ...]
    ended: bool
    end_events: tuple[str, ...]
    problems: tuple[StepProblem, ...]
    open_tasks: tuple[str, ...]  # element ids of the human tasks open when the run stopped
    finished_at: datetime
    data: Mapping[str, Any]  # the workflow's data when the run stopped


class _Stop(Exception):
    """Ends the run: a problem was recorded."""


def dry_run(
    files: Mapping[str, bytes],
    process_id: str,
    *,
    forms: Mapping[str, dict] | None = None,
    start_data: dict | None = None,
    answers: Mapping[str, dict | list[dict]] | None = None,
    office: str = "HTI",
    script: Sequence[str] | None = None,
    fast_forward: str | None = None,
    max_steps: int = 500,
    start_at: datetime = START,
) -> DryRun:
    """Run `process_id` of the draft `files` (BPMN and DMN, by name) in memory; InvalidDiagram if the
    files have errors. Step problems (bad answers, failing scripts) end the run and are reported."""
    definitions = load_definitions(dict(files))
    if definitions.errors():
        raise InvalidDiagram(definitions.errors())
    spec, subprocess_specs = definitions.spec(process_id)
    if script is None:
        script = ["complete until timer", f"wait {fast_forward}", "complete all"] if fast_forward else ["complete all"]
    run = _Run(definitions, spec, subprocess_specs, forms, answers, office, max_steps, start_at)
    with using(run.clock), budget.metered():  # one step budget and time budget for the whole run
        run.start(start_data)
        for step in script:
            if run.problems:
                break
            run.step(step)
    return run.result()


class _Run:
    def __init__(self, definitions, spec, subprocess_specs, forms, answers, office, max_steps, start_at):
        self.types = element_types(definitions.files)
        self.workflow = execution.new_workflow(spec, subprocess_specs)
        self.forms = dict(forms) if forms is not None else None
        self.answers = {
            key: list(value) if isinstance(value, list) else [value] for key, value in (answers or {}).items()
        }
        self.office = office
        self.max_steps = max_steps
        self.steps = 0
        self.now = start_at
        self.clock = FixedClock(start_at)
        self.path: list[PathStep] = []
        self.tasks: dict[str, dict] = {}  # spiff task id -> fields of DryTask
        self.fired: list[FiredTimer] = []
        self.emails: list[Email] = []
        self.thrown: list[ThrownMessage] = []
        self.problems: list[StepProblem] = []
        self._seen: set = set()

    # --- the script -------------------------------------------------------------------------------

    def start(self, start_data: dict | None) -> None:
        start = none_start_event(self.workflow.spec)
        key = form_key(start) if start is not None else None
        data = dict(start_data) if start_data is not None else self._default_answer(key)
        data, errors = accepted(self._form(key), data)
        if not self._valid(getattr(start, "bpmn_id", None), key, errors):
            return
        # A sample of the reference a real start would give (KIND-OFFICE-YEAR-0000), where the form holds it.
        sample = f"{reference_kind(self.workflow.spec.name)}-{self.office}-{self.now.year}-0000"
        own = own_references(self._form(key), sample)
        self.workflow.task_tree.set_data(**without_owned(data), **own, **engine_fields(self.office))
        self._act(lambda: execution.advance(self.workflow, self.now), returned=False)

    def step(self, step: str) -> None:
        words = step.split()
        try:
            if words == ["complete"]:
                self._complete_round()
            elif words == ["complete", "all"]:
                while self._open() and not self.problems:
                    self._complete_round()
            elif words[:2] == ["complete", "until"] and len(words) == 3:
                while self._open() and not self.problems and not self._reached(words[2]):
                    self._complete_round()
            elif words[:1] == ["wait"] and len(words) == 2:
                self._wait(words[1])
            else:
                self._problem(None, f"unknown script step {step!r}")
        except _Stop:
            pass

    def _reached(self, target: str) -> bool:
        if target == "timer":
            return bool(timer_events.waiting_timers(self.workflow))
        return any(t.task_spec.bpmn_id == target for t in self._open())

    def _complete_round(self) -> None:
        for task in self._open():
            if not task.has_state(TaskState.READY):
                continue  # cancelled by the completion of another task of this round
            self._count_step()
            element = task.task_spec.bpmn_id
            key = form_key(task.task_spec)
            queued = self.answers.get(element)
            data = dict(queued.pop(0)) if queued else self._default_answer(key)
            data, errors = accepted(self._form(key), data, task.data)
            if not self._valid(element, key, errors):
                raise _Stop
            record = self.tasks[str(task.id)]
            record.update(state="completed", closed_at=self.now, data=data)
            self._act(
                lambda task=task, data=data: execution.run_task(self.workflow, task, data, self.now),
                returned=policy.sends_back(data),
            )

    def _wait(self, duration: str) -> None:
        try:
            parsed = TimerEventDefinition.parse_iso_duration(duration)
            end = self.now + TimerEventDefinition.get_timedelta_from_start(parsed, self.now)
        except Exception:  # noqa: BLE001 - the library raises a bare Exception for a bad duration
            self._problem(None, f"not an ISO 8601 duration: {duration!r}")
            return
        while True:
            due = [
                timer_events.timer_instant(t.internal_data["event_value"])
                for t in timer_events.waiting_timers(self.workflow)
            ]
            # SpiffWorkflow's instants are of its patched datetime class (engine.clock): made plain again.
            due = sorted(datetime.fromtimestamp(d.timestamp(), timezone.utc) for d in due if d <= end)
            if not due:
                break
            self._count_step()
            self.now = max(self.now, due[0])
            self.clock.set(self.now + _EPSILON)
            self._act(lambda: execution.advance(self.workflow, self.now), returned=False)
            if self.problems:
                return
        self.now = end
        self.clock.set(end)

    # --- one engine action and what it caused -------------------------------------------------------

    def _act(self, action, *, returned: bool) -> None:
        before = {tid: t for tid, t in self._open_by_id().items()}
        self._states = outcomes.task_states(self.workflow)
        try:
            action()
        except ProcessFailure as failure:
            self._observe(before, returned)
            self._problem(failure.element, failure.message)
        except Exception as error:  # noqa: BLE001 - a draft must never make the dry run raise
            self._observe(before, returned)
            self._problem(None, f"{type(error).__name__}: {error}")
        else:
            self._observe(before, returned)

    def _observe(self, before: dict[str, Task], returned: bool) -> None:
        reached = outcomes.reached(self.workflow, lambda: self._states)
        returned = returned or policy.returns(reached) is not None
        fired = self._record_path()
        for task in fired:
            self._timer_fired(task, before)
        for tid, task in before.items():
            if tid in self.tasks and self.tasks[tid]["state"] == "open" and not task.has_state(TaskState.READY):
                self.tasks[tid].update(state="cancelled", closed_at=self.now)
        opened = [(tid, task) for tid, task in self._open_by_id().items() if tid not in self.tasks]
        for tid, task in opened:
            self._task_opened(tid, task, policy.opened_kind(returned))
        told = [self._audience(t) for _, t in opened] if returned else []
        for outcome in reached:
            decider = policy.decider_audience(CATALOGUE, self.workflow, outcome, self.office)
            to = policy.outcome_audiences(CATALOGUE, self.office, decider=decider, told=told)
            self.emails.append(Email(policy.outcome_kind(outcome.outcome), _roles(to), outcome.element_id, self.now))
        for name, payload in thrown(self.workflow):
            self.thrown.append(ThrownMessage(name, payload, self.now))

    def _record_path(self) -> list[Task]:
        """Append the elements completed since the last look; returns the timer events among them."""
        done = [
            t
            for t in self.workflow.get_tasks()
            if t.has_state(TaskState.COMPLETED) and t.task_spec.bpmn_id and t.id not in self._seen
        ]
        done.sort(key=lambda t: t.last_state_change)
        for task in done:
            self._seen.add(task.id)
            spec = task.task_spec
            self.path.append(
                PathStep(spec.bpmn_id, spec.bpmn_name, self.types.get(spec.bpmn_id, type(spec).__name__), self.now)
            )
        return [t for t in done if isinstance(getattr(t.task_spec, "event_definition", None), TimerEventDefinition)]

    def _timer_fired(self, timer: Task, before: dict[str, Task]) -> None:
        spec = timer.task_spec
        activity = timer_events.attached_activity(timer) if spec.__class__.__name__ == "BoundaryEvent" else None
        interrupting = bool(getattr(spec, "cancel_activity", False)) and activity is not None
        self.fired.append(FiredTimer(spec.bpmn_id, spec.bpmn_name, self.now, interrupting))
        if activity is None:
            return  # a wait on the flow, not an SLA on somebody's work
        about = [
            task
            for task in before.values()
            if policy.is_about(task, str(activity.id))
            and task.has_state(TaskState.CANCELLED if interrupting else TaskState.READY)
        ]
        if not about:
            return
        audiences = policy.timer_audiences(CATALOGUE, spec, [self._audience(t) for t in about], self.office)
        kind = policy.timer_kind(interrupting)
        self.emails.append(Email(kind, _roles(audiences), about[0].task_spec.bpmn_id, self.now))

    def _task_opened(self, tid: str, task: Task, kind: str) -> None:
        spec = task.task_spec
        lane = spec.lane
        self.tasks[tid] = dict(
            element_id=spec.bpmn_id or spec.name,
            name=spec.bpmn_name,
            lane=lane,
            office=self._audience(task).office,
            form_key=form_key(spec),
            opened_at=self.now,
            due_at=execution.due_time(task),
            state="open",
            closed_at=None,
            data=None,
        )
        self.emails.append(Email(kind, _roles([self._audience(task)]), spec.bpmn_id or spec.name, self.now))

    def _audience(self, task: Task) -> policy.Audience:
        return policy.task_audience(CATALOGUE, task.task_spec.lane, self.office)

    # --- helpers ---------------------------------------------------------------------------------------

    def _open(self) -> list[Task]:
        return execution.ready_human_tasks(self.workflow)

    def _open_by_id(self) -> dict[str, Task]:
        return {str(t.id): t for t in self._open()}

    def _count_step(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            self._problem(None, f"stopped after {self.max_steps} steps (a loop that never ends?)")
            raise _Stop

    def _problem(self, element: str | None, message: str, fields: dict | None = None) -> None:
        self.problems.append(StepProblem(element, message, dict(fields or {})))

    def _form(self, key: str | None) -> dict | None:
        if not key:
            return None
        if self.forms is not None:
            return self.forms.get(key)
        path = FORMS_DIR / f"{key}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def _valid(self, element: str | None, key: str | None, errors: dict[str, str]) -> bool:
        if errors:
            listed = "; ".join(f"{name or 'form'}: {message}" for name, message in errors.items())
            self._problem(element, f"the answer does not fit the form {key}: {listed}", errors)
        return not errors

    def _default_answer(self, key: str | None) -> dict:
        schema = self._form(key)
        return minimal_answer(schema, self.now) if schema else {}

    def result(self) -> DryRun:
        ends = tuple(p.element_id for p in self.path if p.type == "endEvent")
        return DryRun(
            path=tuple(self.path),
            tasks=tuple(DryTask(**record) for record in self.tasks.values()),
            timers=tuple(self.fired),
            emails=tuple(self.emails),
            messages=tuple(self.thrown),
            ended=self.workflow.is_completed() and not self.problems,
            end_events=ends,
            problems=tuple(self.problems),
            open_tasks=tuple(t.task_spec.bpmn_id for t in self._open()),
            finished_at=self.now,
            data=json.loads(json.dumps(execution.current_data(self.workflow), default=str)),
        )


def _roles(audiences: list[policy.Audience]) -> tuple[tuple[str, str | None], ...]:
    """Audiences as the dry run shows them: (role, office), ("starter", office) for a task in no lane."""
    return tuple(dict.fromkeys((a.role or "starter", a.office) for a in audiences))
