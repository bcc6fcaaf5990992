"""Who is told about a step, and why: decided by the diagram, the same for a real instance and a
dry run (which reports the audiences as roles and offices instead of people).

- A task that opens: "task assigned" to its assignee or the holders of its lane's role (or
  "returned for revision" when the step that opened it sent the work back).
- A reminder (non-interrupting timer on a task): to the task's assignee or candidates.
- An escalation (interrupting timer on a task): to the task's people and to the roles the timer
  event names in its `notifyRoles` property (e.g. "Regional Director, MEFM Approver").
- An outcome the diagram marks (approved, rejected, endorsed, returned...; engine.bpmn.outcomes):
  to whoever started the case and the case office's Chief of Mission, but not to the person who
  decided it, nor to whoever the step's "returned for revision" email already told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..bpmn import execution
from ..bpmn.outcomes import RETURNED, Reached
from ..bpmn.timers import enclosing_activities
from ..org.offices import Organisation, StoredOrganisation, holders, place_role
from ..store.models import HumanTask, ProcessInstance, Timer, User
from ..store.uow import Transaction
from . import emails

# Decisions that send work back to whoever prepared it.
RETURN_DECISIONS = frozenset({"return", "returned", "revision_required", "return_with_comments"})
NOTIFY_PROPERTY = "notifyRoles"
# Fields that carry a task's outcome: `decision`, `outcome`, `recommendation`, or any `*_decision`
# / `*_recommendation` (e.g. `regional_recommendation`).
OUTCOME_NAMES = ("decision", "outcome", "recommendation")
# Besides the starter, who is told a case's outcome: these roles where the case's office has them.
CASE_ROLES = ("Chief of Mission",)


@dataclass(frozen=True)
class Audience:
    """Who an email is for, before it is resolved to people: the assignee if there is one (and they
    are active), else the holders of `role` in `office`. A task in no lane has no role: it belongs
    to whoever started the case."""

    role: str | None
    office: str | None
    assignee_id: int | None = None


def is_outcome_field(name: str) -> bool:
    return name in OUTCOME_NAMES or name.endswith(("_decision", "_recommendation"))


def sends_back(data: dict) -> bool:
    """Did this submission send the work back for revision?"""
    return any(is_outcome_field(name) and value in RETURN_DECISIONS for name, value in data.items())


def reason_in(data: dict) -> str | None:
    """The reason a submission gives, for a diagram that marks no outcome: its `comments` or
    `*_comments` field."""
    for name, value in data.items():
        if (name == "comments" or name.endswith("_comments")) and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def opened_kind(returned: bool) -> str:
    return "returned" if returned else "task_assigned"


def outcome_kind(outcome: str) -> str:
    return f"outcome_{outcome}"


def returns(reached: Iterable[Reached]) -> Reached | None:
    """The return for revision among the outcomes a step reached, if any."""
    return next((r for r in reached if r.outcome == RETURNED), None)


def outcome_audiences(
    organisation: Organisation, office_code: str, *, decider: Audience | None = None, told: Iterable[Audience] = ()
) -> list[Audience]:
    """The roles told of a case's outcome (its starter is told besides, as a person), without the
    decider's and those the step's "returned for revision" email told (a dry run compares roles)."""
    skip = {*told, decider}
    return [a for role in CASE_ROLES if (a := task_audience(organisation, role, office_code)) not in skip]


def timer_kind(interrupting: bool) -> str:
    return "escalation" if interrupting else "reminder"


def notify_roles(task_spec) -> list[str]:
    """The roles a timer event names in its `notifyRoles` property."""
    value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(NOTIFY_PROPERTY, "")
    return [role.strip() for role in value.split(",") if role.strip()]


def task_audience(organisation: Organisation, role: str | None, office_code: str, assignee_id: int | None = None):
    """The audience of a task of a case of `office_code` whose lane is `role`."""
    return Audience(role, place_role(organisation, role, office_code) if role else office_code, assignee_id)


def timer_audiences(
    organisation: Organisation, timer_spec, about: Iterable[Audience], office_code: str
) -> list[Audience]:
    """Who a reminder or escalation goes to: the people of the tasks it is about, then the roles
    the timer names (`notifyRoles`), each once."""
    named = [task_audience(organisation, role, office_code) for role in notify_roles(timer_spec)]
    return list(dict.fromkeys([*about, *named]))


def decider_audience(
    organisation: Organisation, workflow: BpmnWorkflow, outcome: Reached, office_code: str
) -> Audience | None:
    """The lane of the human task whose answer decided an outcome (none when the engine reached it)."""
    task = execution.find_task(workflow, outcome.task_id)
    if task is None or not task.task_spec.manual or not task.has_state(TaskState.COMPLETED):
        return None
    return task_audience(organisation, task.task_spec.lane, office_code)


def is_about(task: Task, activity_id: str) -> bool:
    """Is `task` the activity a timer is attached to, or inside it (a sub-process, a called process)?"""
    return activity_id in {str(t.id) for t in enclosing_activities(task)}


# --- a real instance: audiences resolved to people, emails queued in the step's transaction ------


def people(session: Session, audiences: Iterable[Audience]) -> list[User]:
    """The users the audiences name, each once. An assignee who was deactivated cannot act, so then
    the role's holders are told instead."""
    found: dict[int, User] = {}
    for audience in audiences:
        for user in _people(session, audience):
            found.setdefault(user.id, user)
    return list(found.values())


def _people(session: Session, audience: Audience) -> list[User]:
    if audience.assignee_id is not None:
        assignee = session.get(User, audience.assignee_id)
        if assignee is not None and assignee.active:
            return [assignee]
    return holders(session, audience.role, audience.office)


@dataclass(frozen=True)
class Returned:
    """Work a step sent back for revision: who sent it and why."""

    by: str | None
    reason: str | None


def returned_by_step(
    tx: Transaction, reached: list[Reached], returned_by: str | None, reason: str | None
) -> Returned | None:
    """Whether the step sent work back: the diagram's `returned` outcome, else the submission's
    decision (`sends_back`, which names `returned_by`)."""
    back = returns(reached)
    if back is None:
        return Returned(returned_by, reason) if returned_by is not None else None
    return Returned(returned_by or _decided_by(tx, back), back.reason or reason)


def queue_for_opened_tasks(
    tx: Transaction, instance: ProcessInstance, opened: list[HumanTask], *, returned: Returned | None = None
) -> set[int]:
    """Tell the people of the tasks the step opened; returns who was told "returned for revision"."""
    kind = opened_kind(returned is not None)
    context = {"by": returned.by, "reason": returned.reason} if returned is not None else {}
    told: set[int] = set()
    for task in opened:
        audience = Audience(task.candidate_role, task.candidate_office, task.assignee_id)
        recipients = people(tx.session, [audience])
        emails.queue(
            tx,
            kind=kind,
            recipients=recipients,
            dedupe_key=f"task:{task.id}:{kind}",
            instance=instance,
            task_id=task.id,
            task_title=task.title,
            context={"due_at": task.due_at, **context},
        )
        if returned is not None:
            told.update(user.id for user in recipients)
    return told


def queue_for_outcomes(
    tx: Transaction, instance: ProcessInstance, reached: list[Reached], *, already_told: set[int]
) -> None:
    """Tell the case's starter and its office's Chief of Mission each outcome the step reached,
    once each (the key names the task that reached it)."""
    if not reached:
        return
    organisation = StoredOrganisation(tx.session)
    starter = tx.session.get(User, instance.started_by_id) if instance.started_by_id is not None else None
    audience = people(tx.session, outcome_audiences(organisation, instance.office_code))
    everyone = ([starter] if starter is not None and starter.active else []) + audience
    for outcome in reached:
        decider = _decider(tx, outcome)
        recipients = [
            user
            for user in dict.fromkeys(everyone)
            if user.id not in already_told and (decider is None or user.id != decider.id)
        ]
        emails.queue(
            tx,
            kind=outcome_kind(outcome.outcome),
            recipients=recipients,
            dedupe_key=f"outcome:{outcome.task_id}:{outcome.outcome}",
            instance=instance,
            task_id=None,
            task_title=None,
            context={"reason": outcome.reason, "amount": outcome.amount, "by": decider.name if decider else None},
        )


def _decider(tx: Transaction, outcome: Reached) -> User | None:
    """The person whose task reached the outcome (none for an end event the engine reached)."""
    task = tx.session.get(HumanTask, outcome.task_id)
    return tx.session.get(User, task.completed_by_id) if task is not None and task.completed_by_id else None


def _decided_by(tx: Transaction, outcome: Reached) -> str | None:
    decider = _decider(tx, outcome)
    return decider.name if decider is not None else None


@dataclass(frozen=True)
class Told:
    """Who a reminder or an escalation reached, for the case's timeline."""

    kind: str  # reminder, escalation
    timer_title: str
    people: list[str]  # names
    roles: list[str]  # the roles told besides the task's own people (escalations: `notifyRoles`)


def queue_for_fired_timers(
    tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow, fired: list[Timer]
) -> list[Told]:
    organisation = StoredOrganisation(tx.session)
    told: list[Told] = []
    for timer in fired:
        if timer.attached_to is None:
            continue  # a timer on the flow itself (a wait), not an SLA on somebody's work
        kind = timer_kind(timer.interrupting)
        tasks = _tasks_under(tx, instance, workflow, timer.attached_to, escalated=timer.interrupting)
        if not tasks:
            continue
        timer_task = execution.find_task(workflow, timer.task_id)
        about = [Audience(t.candidate_role, t.candidate_office, t.assignee_id) for t in tasks]
        audiences = timer_audiences(
            organisation, timer_task.task_spec if timer_task else None, about, instance.office_code
        )
        first = tasks[0]
        recipients = people(tx.session, audiences)
        named = notify_roles(timer_task.task_spec) if timer_task else []
        told.append(Told(kind, timer.title, [user.name for user in recipients], named))
        emails.queue(
            tx,
            kind=kind,
            recipients=recipients,
            dedupe_key=f"timer:{timer.id}:{kind}",
            instance=instance,
            task_id=first.id if kind == "reminder" else None,
            task_title=first.title,
            context={"due_at": first.due_at},
        )
    return told


def _tasks_under(
    tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow, activity_id: str, *, escalated: bool
) -> list[HumanTask]:
    """The human tasks a timer on `activity_id` is about: the task itself, or the ones inside the
    sub-process; those still open for a reminder, those the escalation just cancelled."""
    state = "cancelled" if escalated else "open"
    query = select(HumanTask).where(HumanTask.instance_id == instance.id, HumanTask.state == state)
    if escalated:
        query = query.where(HumanTask.completed_at == tx.now())
    found = []
    for task in tx.session.scalars(query.order_by(HumanTask.created_at, HumanTask.id)):
        spiff_task = execution.find_task(workflow, task.id)
        if task.id == activity_id or (spiff_task is not None and is_about(spiff_task, activity_id)):
            found.append(task)
    return found
