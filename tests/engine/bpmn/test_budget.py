"""The step budget and the time budget of engine.bpmn.budget, and the call cycles of engine.bpmn.calls,
without a database."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from engine.bpmn import budget, calls, execution
from engine.bpmn.budget import StepBudget
from engine.bpmn.loading import load_definitions
from engine.errors import BudgetExceeded, ProcessFailure

LOOPS = Path(__file__).resolve().parents[2] / "security" / "data" / "loops"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def step_budget():
    before = budget.current()
    yield budget.configure
    budget.configure(before)


def script_loop(rounds: int):
    definitions = load_definitions({"script_loop.bpmn": (LOOPS / "script_loop.bpmn").read_bytes()})
    workflow = execution.new_workflow(*definitions.spec("script_loop"))
    workflow.task_tree.set_data(rounds=rounds)
    return workflow


def tasks_of(rounds: int) -> int:
    """The tasks a step of the script loop runs: the start's own, `begin`, then `add` and `again` per round."""
    with budget.metered() as meter:
        execution.advance(script_loop(rounds), NOW)
    return meter.tasks


def test_a_step_may_run_exactly_its_budget_of_tasks_and_not_one_more(step_budget):
    needed = tasks_of(10)
    step_budget(StepBudget(tasks=needed, seconds=60))
    workflow = script_loop(10)
    execution.advance(workflow, NOW)
    assert workflow.is_completed() is False and workflow.last_task.data["total"] == 55  # waiting at `check`

    step_budget(StepBudget(tasks=needed - 1, seconds=60))
    with pytest.raises(BudgetExceeded, match=f"ran {needed - 1} tasks") as over:
        execution.advance(script_loop(10), NOW)
    assert isinstance(over.value, ProcessFailure) and over.value.element in {"add", "again", "check"}


def test_the_default_budget_runs_a_2000_round_script_loop():
    assert budget.current() == budget.DEFAULT
    workflow = script_loop(2000)
    execution.advance(workflow, NOW)
    assert workflow.last_task.data["i"] == 2000


def test_a_dry_run_spends_one_budget_on_all_its_steps(step_budget):
    """Inside `metered`, every step shares the meter opened around them."""
    one_step = tasks_of(10)
    step_budget(StepBudget(tasks=one_step + one_step // 2, seconds=60))
    with budget.metered():
        execution.advance(script_loop(10), NOW)  # alone within the budget
        with pytest.raises(BudgetExceeded):
            execution.advance(script_loop(10), NOW)  # but not twice


def test_a_budget_needs_tasks_and_time():
    for tasks, seconds in ((0, 10), (10, 0), (10, float("nan"))):
        with pytest.raises(ValueError):
            StepBudget(tasks=tasks, seconds=seconds)


def _tree(process: str, *called: str) -> etree._ElementTree:
    activities = "".join(f'<bpmn:callActivity id="call_{c}" calledElement="{c}"/>' for c in called)
    return etree.ElementTree(
        etree.fromstring(
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            f'<bpmn:process id="{process}">{activities}</bpmn:process></bpmn:definitions>'
        )
    )


def test_only_the_call_activities_on_a_cycle_are_refused_with_the_shortest_cycle():
    trees = {
        "a.bpmn": _tree("a", "b", "c"),  # a calls b and c; c calls d; d calls a: a cycle through c
        "b.bpmn": _tree("b"),
        "c.bpmn": _tree("c", "d"),
        "d.bpmn": _tree("d", "a", "b"),
    }
    found = {
        name: [(f.element.get("id"), f.message.split("(")[1].split(")")[0]) for f in findings]
        for name, findings in calls.recursive_calls(trees).items()
    }
    assert found == {
        "a.bpmn": [("call_c", "a calls c calls d calls a")],
        "c.bpmn": [("call_d", "c calls d calls a calls c")],
        "d.bpmn": [("call_a", "d calls a calls c calls d")],
    }


def test_calls_that_meet_again_without_a_cycle_are_not_refused():
    trees = {"a.bpmn": _tree("a", "b", "c"), "b.bpmn": _tree("b", "c"), "c.bpmn": _tree("c")}
    assert calls.recursive_calls(trees) == {}
