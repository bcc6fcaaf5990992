"""The outcomes of a case as its diagram marks them, so that no code knows a process: a fixed
`outcome` on an element (an end event "Not endorsed", a revise task that only a return opens) is
reached when the element is; `outcomeField` with `outcomes` on a decision task maps the value the
task completed with to an outcome ("approve: approved, approve_reduced: approved_reduced").
`reasonField` names the field(s) holding the reason, `amountField` the amount, for every outcome
or per outcome ("approved: requested_amount_usd, approved_reduced: approved_amount_usd").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from .vocabulary import OUTCOME_PROPERTIES, OUTCOMES

RETURNED = "returned"
# A fixed outcome is reached once its element has been entered (an end event completes at once;
# a user task waits READY for its person); a mapped one when its task has completed.
ENTERED = TaskState.READY | TaskState.STARTED | TaskState.COMPLETED | TaskState.ERROR
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Mark:
    """What an element's properties say about outcomes."""

    fixed: str | None = None
    field_name: str | None = None  # the task's field whose value says the outcome
    by_value: dict[str, str] = field(default_factory=dict)  # that field's value -> outcome
    reason_fields: tuple[str, ...] = ()
    amount_fields: dict[str, str] = field(default_factory=dict)  # outcome ("" for any) -> field

    def outcome_for(self, data: Mapping[str, Any]) -> str | None:
        if self.fixed is not None:
            return self.fixed
        value = data.get(self.field_name or "")
        return self.by_value.get(value) if isinstance(value, str) else None


@dataclass(frozen=True)
class Reached:
    """An outcome reached by a step: which task reached it and what its data says."""

    outcome: str
    task_id: str  # the SpiffWorkflow task (a human task's id when a person decided it)
    element_id: str
    reason: str
    amount: int | float | None


def read_mark(properties: Mapping[str, str]) -> tuple[Mark | None, list[str]]:
    """The mark of an element's properties (None if it has none) and what is wrong with it."""
    if not any(name in properties for name in OUTCOME_PROPERTIES):
        return None, []
    problems: list[str] = []
    fixed = (properties.get("outcome") or "").strip() or None
    field_name = (properties.get("outcomeField") or "").strip() or None
    by_value = _pairs(properties.get("outcomes", ""), "outcomes", problems)
    if fixed is not None and (field_name or by_value):
        problems.append("give either a fixed outcome or outcomeField with outcomes, not both")
    elif fixed is None and not (field_name and by_value):
        problems.append("an outcome needs either the property outcome or both outcomeField and outcomes")
    if fixed is not None and fixed not in OUTCOMES:
        problems.append(f"outcome {fixed!r} is not one of {', '.join(OUTCOMES)}")
    for value, outcome in by_value.items():
        if outcome not in OUTCOMES:
            problems.append(f"outcomes: {value!r} maps to {outcome!r}, not one of {', '.join(OUTCOMES)}")
    reason_fields = tuple(name.strip() for name in (properties.get("reasonField") or "").split(",") if name.strip())
    amount_text = (properties.get("amountField") or "").strip()
    amount_fields = {"": amount_text} if amount_text and ":" not in amount_text else {}
    amount_fields = amount_fields or _pairs(amount_text, "amountField", problems, value_is_field=True)
    possible = {fixed} if fixed else set(by_value.values())
    for outcome in amount_fields:
        if outcome and outcome not in possible:
            problems.append(f"amountField names outcome {outcome!r}, which this element never reaches")
    for name in (field_name, *reason_fields, *amount_fields.values()):
        if name is not None and not _NAME.fullmatch(name):
            problems.append(f"{name!r} is not a field name")
    mark = Mark(fixed, field_name, by_value, reason_fields, amount_fields)
    return (None if problems else mark), problems


def _pairs(text: str, prop: str, problems: list[str], *, value_is_field: bool = False) -> dict[str, str]:
    """`a: b, c: d` -> {a: b, c: d}; for amountField the keys are outcomes and the values fields."""
    pairs: dict[str, str] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, colon, value = (s.strip() for s in part.partition(":"))
        if not colon or not key or not value:
            problems.append(f"{prop}: {part!r} is not 'key: value'")
            continue
        if value_is_field and key not in OUTCOMES:
            problems.append(f"amountField: {key!r} is not one of {', '.join(OUTCOMES)}")
        pairs[key] = value
    return pairs


def mark_of(task: Task) -> Mark | None:
    properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
    return read_mark(properties)[0] if properties else None


def task_states(workflow: BpmnWorkflow) -> dict[str, int]:
    """Every task's state, to compare with after a step (the dry run keeps this in memory)."""
    return {str(task.id): task.state for task in workflow.get_tasks()}


def reached(workflow: BpmnWorkflow, before: Callable[[], Mapping[str, int]]) -> list[Reached]:
    """The outcomes the step that led to `workflow` reached, in the order it reached them.
    `before` gives the task states before the step; it is only read when a marked task exists."""
    marked = [(task, mark) for task in workflow.get_tasks() if (mark := mark_of(task)) is not None]
    if not marked:
        return []
    earlier = before()
    found = []
    for task, mark in sorted(marked, key=lambda pair: pair[0].last_state_change):
        mask = ENTERED if mark.fixed is not None else TaskState.COMPLETED
        if not task.has_state(mask) or earlier.get(str(task.id), 0) & mask:
            continue
        outcome = mark.outcome_for(task.data)
        if outcome is not None:
            found.append(_reached(task, mark, outcome))
    return found


def _reached(task: Task, mark: Mark, outcome: str) -> Reached:
    data = task.data
    reasons = [str(data[name]).strip() for name in mark.reason_fields if data.get(name)]
    amount_field = mark.amount_fields.get(outcome) or mark.amount_fields.get("")
    amount = data.get(amount_field) if amount_field else None
    return Reached(
        outcome,
        str(task.id),
        task.task_spec.bpmn_id or task.task_spec.name,
        " | ".join(reason for reason in reasons if reason),
        amount if isinstance(amount, (int, float)) and not isinstance(amount, bool) else None,
    )
