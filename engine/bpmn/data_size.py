"""How much data an instance holds, bounded before its state is stored: the data of each of its
tasks (what the case carries at that point), about as many bytes as it takes in JSON. Counted
without building the JSON and only until the limit is passed, so a list holding one long text a
thousand times is refused before it becomes a gigabyte in memory or in a row.

The bound is on each task's data, not on their sum: every task of the stored state keeps its own
copy of the data (see engine.bpmn.task_tree for how few are kept), so a sum would refuse a long
but ordinary case for the number of its steps. The limit is the process's (`configure`, from
DOEFLOW_MAX_INSTANCE_DATA_BYTES in the app factory).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task

from ..errors import ProcessFailure
from .bounds import rendered_size

DEFAULT_LIMIT = 1_000_000
_limit = DEFAULT_LIMIT


def configure(limit: int) -> None:
    """The limit of every instance this process stores from now on (every thread)."""
    global _limit
    if limit < 1:
        raise ValueError(f"an instance's data needs at least one byte, not {limit}")
    _limit = limit


def current() -> int:
    return _limit


def require_within(workflow: BpmnWorkflow) -> None:
    """Raise ProcessFailure, naming the first task (in the order they ran) whose data takes more
    than the limit, or the message thrown (its payload is stored too) whose payload does."""
    limit, memo = _limit, {}  # task data share their values: each is measured once
    culprit = next((t for t in _tasks(workflow) if rendered_size(t.data, limit, memo) > limit), None)
    if culprit is not None or rendered_size(workflow.data, limit, memo) > limit:
        spec = (culprit or workflow.last_task or workflow.task_tree).task_spec
        raise ProcessFailure(
            getattr(spec, "bpmn_id", None) or spec.name,
            f"the data of this case would take more than {limit:,} bytes (DOEFLOW_MAX_INSTANCE_DATA_BYTES), "
            "so nothing of this step was saved; keep long texts and lists out of the case's data",
            name=getattr(spec, "bpmn_name", None),
        )
    for event in workflow.bpmn_events:
        if rendered_size(event.payload, limit, memo) > limit:
            name = getattr(event.event_definition, "name", None) or "a message"
            raise ProcessFailure(
                None,
                f"the payload of the message {name!r} would take more than {limit:,} bytes "
                "(DOEFLOW_MAX_INSTANCE_DATA_BYTES), so nothing of this step was saved",
            )


def _tasks(workflow: BpmnWorkflow) -> list[Task]:
    tasks = list(workflow.tasks.values())
    for subprocess in workflow.subprocesses.values():
        tasks += subprocess.tasks.values()
    return sorted(tasks, key=lambda t: t.last_state_change)
