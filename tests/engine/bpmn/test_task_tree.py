"""engine.bpmn.task_tree: loops far past SpiffWorkflow's task-depth limit (1000), in memory through
engine.bpmn.execution; the tree kept short; nothing called completed that did not end."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import execution, serializer, task_tree
from engine.bpmn.loading import load_definitions
from engine.errors import ProcessFailure

LOOPS = Path(__file__).resolve().parents[2] / "security" / "data" / "loops"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def loop_workflow(name: str, rounds: int):
    spec, subprocess_specs = load_definitions({f"{name}.bpmn": (LOOPS / f"{name}.bpmn").read_bytes()}).spec(name)
    workflow = execution.new_workflow(spec, subprocess_specs)
    workflow.task_tree.set_data(rounds=rounds, office="HTI")
    execution.advance(workflow, NOW)
    return workflow


def answer(workflow, value: int) -> None:
    [ready] = execution.ready_human_tasks(workflow)
    execution.run_task(workflow, ready, {"value": value}, NOW)


def completed_elements(workflow) -> set[str]:
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


def test_a_user_task_loop_of_10000_rounds_runs_to_its_end_with_its_data():
    workflow = loop_workflow("user_task_loop", 10_000)
    for done in range(10_000):
        assert not workflow.is_completed(), f"completed after {done} rounds"
        answer(workflow, done % 7)
        assert len(workflow.tasks) < 40, (done, len(workflow.tasks))  # each finished round is let go
    assert workflow.is_completed() and execution.ready_human_tasks(workflow) == []
    data = execution.current_data(workflow)
    assert (data["answered"], data["total"]) == (10_000, sum(n % 7 for n in range(10_000)))
    # the diagram still shows every element that ran
    assert completed_elements(workflow) == {"start", "begin", "answer", "count", "again", "done"}


def test_a_script_loop_of_2000_rounds_in_one_step_keeps_its_data_and_waits_at_the_next_task():
    workflow = loop_workflow("script_loop", 2_000)
    assert not workflow.is_completed()
    assert [t.task_spec.bpmn_id for t in execution.ready_human_tasks(workflow)] == ["check"]
    data = execution.current_data(workflow)
    assert (data["i"], data["total"]) == (2_000, 2_001_000)
    assert len(workflow.tasks) < 2 * task_tree.GROWTH


def test_a_loop_survives_being_stored_and_restored_every_round():
    workflow = loop_workflow("user_task_loop", 1_200)
    spec, subprocess_specs = workflow.spec, workflow.subprocess_specs
    sizes = []
    for _ in range(1_200):
        answer(workflow, 1)
        state = serializer.dump(workflow)
        sizes.append(len(state))
        workflow = execution.restore(state, spec, subprocess_specs)
    assert workflow.is_completed() and execution.current_data(workflow)["answered"] == 1_200
    assert max(sizes) < 2 * min(sizes[10:]), (min(sizes), max(sizes))  # the state does not grow by round


# Every loop shape the compaction must handle: (diagram, what a round leaves at the end).
SHAPES = ["user_task_loop", "parallel_loop", "subprocess_loop"]


def drive(workflow, rounds: int, steps, *, first: int = 0) -> None:
    """Answer `rounds` rounds (round n answers n % 5), running engine steps with `steps`."""
    for done in range(first, first + rounds):
        assert not workflow.is_completed(), f"completed after {done} rounds"
        [ready] = execution.ready_human_tasks(workflow)
        with execution.failures_as_process_errors():
            ready.set_data(value=done % 5)
            ready.run()
            steps(workflow)


@pytest.mark.parametrize("name", SHAPES)
def test_every_loop_shape_runs_past_the_old_limit_and_keeps_a_short_tree(name):
    workflow = loop_workflow(name, 1_200)
    biggest = 0
    for done in range(1_200):
        drive(workflow, 1, task_tree.run_engine_steps, first=done)
        workflow = execution.restore(serializer.dump(workflow), workflow.spec, workflow.subprocess_specs)
        biggest = max(biggest, task_tree.size(workflow))
    assert workflow.is_completed() and task_tree.unfinished(workflow) == []
    data = execution.current_data(workflow)
    assert (data["answered"], data["total"]) == (1_200, sum(n % 5 for n in range(1_200)))
    assert biggest < 60, biggest


@pytest.mark.parametrize("name", SHAPES)
def test_compacting_changes_nothing_the_library_computes(name):
    """The same 40 rounds with the tree compacted and as the library leaves it: the same data at
    the end and the same elements shown as run."""
    plain, compacted = loop_workflow(name, 40), loop_workflow(name, 40)
    drive(plain, 40, lambda workflow: workflow.do_engine_steps())
    drive(compacted, 40, task_tree.run_engine_steps)
    assert len(compacted.tasks) < len(plain.tasks) / 4
    assert execution.current_data(compacted) == execution.current_data(plain)
    assert completed_elements(compacted) == completed_elements(plain)
    assert compacted.is_completed() and plain.is_completed()


def test_a_deep_chain_is_walked_to_its_end_without_a_depth_limit_or_recursion():
    """The library's walks themselves: past depth 1000 the iterators go on and the ancestor walks
    are not recursive (a RecursionError was a 500)."""
    workflow = loop_workflow("user_task_loop", 400)
    for _ in range(400):  # without compacting: the tree grows as the library grows it
        [ready] = execution.ready_human_tasks(workflow)
        with execution.failures_as_process_errors():
            ready.set_data(value=1)
            ready.run()
            workflow.do_engine_steps()
    [end] = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id == "done"]
    assert end.depth > 1_200  # past the old limit of 1000
    assert end.is_descendant_of(workflow.task_tree) and end.find_ancestor("begin") is not None
    assert workflow.is_completed() and execution.current_data(workflow)["answered"] == 400


def test_require_the_end_refuses_a_workflow_with_a_task_still_open():
    workflow = loop_workflow("user_task_loop", 3)
    workflow.completed = True  # what the old depth limit made is_completed() say
    assert workflow.is_completed()
    with pytest.raises(ProcessFailure, match=r"stopped before the process reached its end \(\d+ step") as failure:
        task_tree.require_the_end(workflow)
    assert failure.value.element == "answer"
    workflow.completed = False
    for value in (1, 2, 3):
        answer(workflow, value)
    task_tree.require_the_end(workflow)  # really ended: no error
