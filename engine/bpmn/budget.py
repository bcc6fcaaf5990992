"""What one step of a workflow may spend: a step budget (tasks run) and a time budget (wall-clock
seconds). Past either, the step stops with BudgetExceeded (a ProcessFailure naming the element in
hand), so the unit of work around it is rolled back and nothing is committed; a loop that never
ends, or a process that calls itself, no longer holds the database (and SQLite's write lock) until
the server is killed.

`engine.bpmn.execution` runs every engine step through a `Meter`: one per step, or the one a dry
run opens around its whole run (`metered`), so a dry run spends one budget. The budget is the
process's (`configure`, from DOEFLOW_STEP_MAX_TASKS and DOEFLOW_STEP_MAX_SECONDS in the app
factory); a script's own time limit (engine.bpmn.scripting) bounds each task within it.
"""

from __future__ import annotations

import contextlib
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Iterator

from SpiffWorkflow.task import Task

from ..errors import BudgetExceeded


@dataclass(frozen=True)
class StepBudget:
    tasks: int = 10_000  # a 2,000-round script loop runs about 4,000
    seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.tasks < 1 or not self.seconds > 0:
            raise ValueError(f"a step budget needs at least one task and some time, not {self}")


DEFAULT = StepBudget()
_budget = DEFAULT
_open_meter: ContextVar["Meter | None"] = ContextVar("doeflow_step_meter", default=None)


def configure(budget: StepBudget) -> None:
    """The budget of every step this process runs from now on (every thread)."""
    global _budget
    _budget = budget


def current() -> StepBudget:
    return _budget


class Meter:
    """Counts the tasks of a step and watches its clock; SpiffWorkflow calls `before` and `after`
    around each task it runs (do_engine_steps' will_complete_task and did_complete_task)."""

    def __init__(self, budget: StepBudget):
        self.budget = budget
        self.tasks = 0
        self.started = time.monotonic()

    def before(self, task: Task) -> None:
        self.tasks += 1
        if self.tasks > self.budget.tasks:
            raise _exceeded(
                task,
                f"the step ran {self.budget.tasks} tasks, its budget (DOEFLOW_STEP_MAX_TASKS), and was stopped",
            )
        self.after(task)

    def after(self, task: Task) -> None:
        if time.monotonic() - self.started > self.budget.seconds:
            raise _exceeded(
                task,
                f"the step ran longer than {self.budget.seconds:g} s, its time budget (DOEFLOW_STEP_MAX_SECONDS), "
                "and was stopped",
            )


def _exceeded(task: Task, what: str) -> BudgetExceeded:
    spec = task.task_spec
    return BudgetExceeded(
        getattr(spec, "bpmn_id", None) or spec.name,
        f"{what}: a loop that never ends, or a process that calls itself? Nothing of this step was saved",
        name=getattr(spec, "bpmn_name", None),
    )


@contextlib.contextmanager
def metered() -> Iterator[Meter]:
    """The meter of the step about to run: the one already open around it (a dry run's), else a
    new one on the process's budget, open until the block ends."""
    meter = _open_meter.get()
    if meter is not None:
        yield meter
        return
    meter = Meter(current())
    token = _open_meter.set(meter)
    try:
        yield meter
    finally:
        _open_meter.reset(token)
