"""Loops that run far past SpiffWorkflow's task-depth limit, and a task tree that stays short.

SpiffWorkflow 3.2.0 adds new tasks below the last one each time a flow goes round a loop, and its
iterators stop descending at depth 1000 (`get_tasks`, `do_engine_steps`, `is_completed()`): a
loop past that point stopped running and the workflow said it was completed. Two changes, both
made here once, when the bpmn layer is imported:

- the iterators' depth limit is lifted (their defaults raised), and the two recursive walks up the
  tree (`Task.is_descendant_of`, `Task.find_ancestor`) are made iterative, so a deep tree is walked
  to its end instead of being cut off or raising RecursionError;
- `compact` drops what a completed loop round leaves behind: a finished task in a plain chain
  (one child, itself finished) is taken out and its child hangs from its parent, and a finished
  branch beside the flow that went on goes whole (see `_drop_dead_branches`). The tree then keeps
  its root, the first finished task of every element (the diagram shows which ran), the last
  task, the finished task just above each open one, and what is still to run. A loop of 10,000
  rounds keeps a tree of a dozen tasks instead of 30,000.

`run_engine_steps` is `BpmnWorkflow.do_engine_steps` with the tree compacted when it starts and
whenever a long run of engine steps has grown it by `GROWTH` tasks. Within a step nothing is taken
out that the step's end still reads: a task open when the step began (a timer that fires, a task
a message wakes), a task whose element marks an outcome (engine.bpmn.outcomes). Between steps
(`compact` on a restored workflow) everything finished in a plain chain may go.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, BoundaryEventSplit
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskIterator, TaskState

from ..errors import ProcessFailure
from .outcomes import mark_of

MAX_DEPTH = 10**9  # no depth at which a walk of the tree silently stops
GROWTH = 100  # tasks a run of engine steps may add to a workflow before it is compacted again


def _lift_depth_limit(cls: type, defaults: dict[str, object]) -> None:
    """Replace the defaults of `cls.__init__`, checking the signature is the one this was written for."""
    parameters = [p for p in inspect.signature(cls.__init__).parameters.values() if p.default is not p.empty]
    names = [p.name for p in parameters]
    if "max_depth" not in names or set(defaults) - set(names):
        raise RuntimeError(f"{cls.__name__}.__init__ changed ({names}): check engine/bpmn/task_tree.py")
    cls.__init__.__defaults__ = tuple(defaults.get(p.name, p.default) for p in parameters)


def _is_descendant_of(self: Task, task: Task) -> bool:
    current = self.parent
    while current is not None:
        if current == task:
            return True
        current = current.parent
    return False


def _find_ancestor(self: Task, spec_name: str) -> Task | None:
    current = self.parent
    while current is not None:
        if current.task_spec.name == spec_name:
            return current
        current = current.parent
    return None


_lift_depth_limit(TaskIterator, {"max_depth": MAX_DEPTH})
_lift_depth_limit(BpmnTaskIterator, {"max_depth": MAX_DEPTH})
Task.is_descendant_of = _is_descendant_of
Task.find_ancestor = _find_ancestor


def size(workflow: BpmnWorkflow) -> int:
    """Tasks held by the workflow and all its sub-processes."""
    return len(workflow.tasks) + sum(len(sp.tasks) for sp in workflow.subprocesses.values())


def unfinished(workflow: BpmnWorkflow) -> list[Task]:
    """Every task not finished, in the workflow and in every sub-process whose task is still open,
    found without an iterator (a flat look at each workflow's tasks, so no depth can hide one)."""
    workflows = [workflow] + [
        sp
        for sp in workflow.subprocesses.values()
        if (owner := _task_of(workflow, sp.parent_task_id)) is not None and owner.has_state(TaskState.NOT_FINISHED_MASK)
    ]
    return [t for wf in workflows for t in wf.tasks.values() if t.has_state(TaskState.NOT_FINISHED_MASK)]


def require_the_end(workflow: BpmnWorkflow) -> None:
    """Before a case is marked completed: SpiffWorkflow says `completed` whenever its walk of the
    tree finds nothing left to run, and a walk cut short (its old depth limit) said so of a loop
    still running. Any task still open fails the step instead (ProcessFailure: nothing of the step
    is committed)."""
    left = unfinished(workflow)
    if left:
        spec = left[0].task_spec
        raise ProcessFailure(
            getattr(spec, "bpmn_id", None) or spec.name,
            f"the engine stopped before the process reached its end ({len(left)} step(s) still open); "
            "nothing of this step was saved",
            name=getattr(spec, "bpmn_name", None),
        )


def _task_of(workflow: BpmnWorkflow, task_id) -> Task | None:
    found = workflow.tasks.get(task_id)
    if found is None:
        for sp in workflow.subprocesses.values():
            found = sp.tasks.get(task_id) or found
    return found


def compact(workflow: BpmnWorkflow, *, keep: Callable[[Task], bool] = lambda task: False) -> None:
    """Take finished tasks in plain chains out of the workflow's tree and its sub-processes' trees
    (see the module's text); `keep` names further tasks that must stay."""
    for wf in [workflow, *workflow.subprocesses.values()]:
        _compact_one(workflow, wf, keep)


def _compact_one(top: BpmnWorkflow, wf, keep: Callable[[Task], bool]) -> None:
    order = _depth_first(wf.task_tree)
    firsts: dict[str, Task] = {}
    for task in order:
        if task.has_state(TaskState.COMPLETED):
            firsts.setdefault(task.task_spec.name, task)
    kept = {id(top.last_task), id(wf.last_task), *map(id, firsts.values())}

    def stays(task: Task) -> bool:
        return id(task) in kept or keep(task) or not _subprocess_finished(top, task)

    _drop_dead_branches(top, wf, order, stays)
    for task in _depth_first(wf.task_tree):
        children = task.children
        if (
            task.has_state(TaskState.COMPLETED)
            and task.parent is not None
            and len(children) == 1
            and children[0].has_state(TaskState.COMPLETED)
            and not stays(task)
        ):
            _splice_out(top, wf, task, children[0])


def _depth_first(root: Task) -> list[Task]:
    order, stack = [], [root]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(reversed(task.children))
    return order


@dataclass
class _Branch:
    dead: bool  # every task finished (completed or cancelled), none that must stay
    join_leaves: set[str] = field(default_factory=set)  # the joins its paths ended waiting at
    joins_run: set[str] = field(default_factory=set)  # the joins completed in it

    def add(self, below: _Branch) -> None:
        self.dead = self.dead and below.dead
        self.join_leaves |= below.join_leaves
        self.joins_run |= below.joins_run


def _drop_dead_branches(top: BpmnWorkflow, wf, order: list[Task], stays: Callable[[Task], bool]) -> None:
    """A finished branch beside the flow that went on (a parallel branch whose join has run, a
    cancelled boundary event or event-gateway path) is taken out with all its tasks. A branch that
    ended at a join stays until a task of that join beside it has completed (the join's run merges
    the branch's data); the branches of a boundary event stay until the activity's join has run."""
    branches: dict[int, _Branch] = {}
    for task in reversed(order):  # children before their parent
        spec = task.task_spec
        branch = _Branch(dead=task.has_state(TaskState.COMPLETED | TaskState.CANCELLED) and not stays(task))
        if isinstance(spec, Join):
            if not task._children:
                branch.join_leaves.add(spec.name)
            if task.has_state(TaskState.COMPLETED):
                branch.joins_run.add(BoundaryEventJoin.__name__ if isinstance(spec, BoundaryEventJoin) else spec.name)
        children = [(child, branches.pop(id(child))) for child in task.children]
        if task.parent is not None and len(children) > 1 and task.has_state(TaskState.COMPLETED):
            for child, below in children:
                beside = set().union(*(other.joins_run for c, other in children if c is not child))
                needs = below.join_leaves | (
                    {BoundaryEventJoin.__name__} if isinstance(spec, BoundaryEventSplit) else set()
                )
                if below.dead and needs <= beside:
                    _drop_branch(top, wf, task, child)
        for _child, below in children:
            branch.add(below)
        branches[id(task)] = branch


def _drop_branch(top: BpmnWorkflow, wf, parent: Task, child: Task) -> None:
    parent._children.remove(child.id)
    for task in _depth_first(child):
        if task.id in top.subprocesses:
            top.delete_subprocess(task)
        top.event_manager.remove_task(task)
        del wf.tasks[task.id]


def _subprocess_finished(top: BpmnWorkflow, task: Task) -> bool:
    subprocess = top.subprocesses.get(task.id)
    return subprocess is None or (
        subprocess.completed and not any(t.has_state(TaskState.NOT_FINISHED_MASK) for t in subprocess.tasks.values())
    )


def _splice_out(top: BpmnWorkflow, wf, task: Task, child: Task) -> None:
    parent = task.parent
    parent._children[parent._children.index(task.id)] = child.id
    child._parent = parent.id
    if task.id in top.subprocesses:
        top.delete_subprocess(task)
    top.event_manager.remove_task(task)
    del wf.tasks[task.id]


def run_engine_steps(
    workflow: BpmnWorkflow,
    will_complete_task: Callable[[Task], None] | None = None,
    did_complete_task: Callable[[Task], None] | None = None,
) -> None:
    """`workflow.do_engine_steps(...)` with the tree kept short (see the module's text); the
    callbacks are passed on."""
    open_at_start = {t.id for t in unfinished(workflow)}

    def keep(task: Task) -> bool:
        return task.id in open_at_start or mark_of(task) is not None

    compact(workflow, keep=keep)
    compacted_at = size(workflow)

    def after(task: Task) -> None:
        nonlocal compacted_at
        if did_complete_task is not None:
            did_complete_task(task)
        if size(workflow) > compacted_at + GROWTH:
            compact(workflow, keep=keep)
            compacted_at = size(workflow)

    workflow.do_engine_steps(will_complete_task, after)
