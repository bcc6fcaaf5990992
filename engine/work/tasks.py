"""Human tasks: the inbox, claiming, releasing and completing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import and_, func, literal, or_, select, union_all

from forms.validation import accepted, draft_errors

from ..bpmn import execution
from ..definitions import versions as definitions
from ..errors import Conflict, InvalidData, NotFound, PermissionDenied
from ..messaging.delivery import deliver_after_commit
from ..notifications import policy
from ..org import offices as org
from ..runtime import audit, steps
from ..store.models import HumanTask, ProcessInstance, ProcessVersion, User
from ..store.uow import Transaction, UnitOfWork
from ..views import InstanceView, TaskView
from . import attachments, case_links, case_list
from .instances import instance_view


def inbox(
    uow: UnitOfWork,
    actor_id: int,
    *,
    which: Literal["all", "mine", "claimable"] = "all",
    process_id: str | None = None,
    office: str | None = None,
    due_before: datetime | None = None,
    limit: int = 500,
) -> list[TaskView]:
    """Open tasks assigned to the actor (`mine`) and those the actor's roles may claim
    (`claimable`), soonest due first; `due_before` keeps the tasks due before that instant (the
    overdue ones, given now). Reads the task projection only, never workflow state."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        return inbox_rows(
            tx, actor, which=which, process_id=process_id, office=office, due_before=due_before, limit=limit
        )


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to: a process, an office, the overdue (`due_before` now), the
    cases a search finds (as the case list searches: engine.work.case_list.searched)."""

    process_id: str | None = None
    office: str | None = None
    due_before: datetime | None = None
    q: str = ""

    def conditions(self) -> list:
        filters = [HumanTask.state == "open"]
        if self.process_id:
            filters.append(HumanTask.process_id == self.process_id)
        if self.office:
            filters.append(HumanTask.office_code == self.office)
        if self.due_before is not None:  # overdue: past its due time, or its case breached an SLA (escalated)
            filters.append(or_(HumanTask.due_at < self.due_before, ProcessInstance.sla_breached.is_(True)))
        return filters + case_list.searched(self.q)


INBOX_SORTS = {  # the inbox's sortable columns; every order ends on the soonest due
    "due": (),
    "step": (HumanTask.title,),
    "case": (ProcessInstance.title,),
    "office": (HumanTask.office_code,),
    "waiting": (HumanTask.created_at,),  # the longest waiting first
}


def inbox_rows(
    tx: Transaction,
    actor: org.Actor,
    *,
    which: Literal["all", "mine", "claimable"] = "all",
    process_id: str | None = None,
    office: str | None = None,
    due_before: datetime | None = None,
    q: str = "",
    sort: str = "due",
    limit: int = 500,
) -> list[TaskView]:
    filters = InboxFilter(process_id, office, due_before, q).conditions()
    soonest_first = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at, HumanTask.id)
    breached_first = (ProcessInstance.sla_breached.desc(), *soonest_first)

    def part(condition):
        # Each half on its own index, limited: the query stays flat as the history grows
        # (one OR over both halves makes SQLite walk every open task; docs/benchmarks.md).
        chosen = (
            select(HumanTask.id)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(*filters, condition)
            .order_by(*breached_first)
            .limit(limit)
        )
        return select(chosen.subquery().c.id)

    parts = [part(condition) for condition in _inbox_halves(actor, which)]
    if not parts:
        return []
    ids = parts[0] if len(parts) == 1 else union_all(*parts)
    rows = tx.session.execute(
        select(
            HumanTask,
            ProcessInstance.title,
            ProcessVersion.name,
            User.name,
            ProcessInstance.sla_breached,
            ProcessInstance.reference,
        )
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .outerjoin(User, User.id == HumanTask.assignee_id)
        .where(HumanTask.id.in_(ids))
        .order_by(*INBOX_SORTS.get(sort, ()), *breached_first)
        .limit(limit)
    ).all()
    return [
        TaskView.of(t, title, process_name=name, assignee_name=who, breached=late, instance_reference=ref)
        for t, title, name, who, late, ref in rows
    ]


def _inbox_halves(actor: org.Actor, which: str) -> list:
    """The conditions of the inbox's two halves: assigned to the actor, claimable by their roles."""
    halves = []
    if which in ("all", "mine"):
        halves.append(HumanTask.assignee_id == actor.id)
    if which in ("all", "claimable") and actor.memberships:
        roles = [
            and_(HumanTask.candidate_role == role, HumanTask.candidate_office == where)
            for role, where in sorted(actor.memberships)
        ]
        halves.append(and_(HumanTask.assignee_id.is_(None), or_(*roles)))
    return halves


def inbox_counts(tx: Transaction, actor: org.Actor, narrowed: InboxFilter) -> dict[str, int]:
    """How many tasks each inbox tab holds under the same filters, and how many cases the actor
    started (that a search finds): one query, each count on the index its tab uses."""

    def count(condition):
        return (
            select(func.count())
            .select_from(HumanTask)
            .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
            .where(*narrowed.conditions(), condition)
            .scalar_subquery()
        )

    [mine] = _inbox_halves(actor, "mine")
    claimable = _inbox_halves(actor, "claimable")
    started = (
        select(func.count())
        .select_from(ProcessInstance)
        .where(ProcessInstance.started_by_id == actor.id, *case_list.searched(narrowed.q))
        .scalar_subquery()
    )
    row = tx.session.execute(select(count(mine), count(claimable[0]) if claimable else literal(0), started)).one()
    return {"all": row[0] + row[1], "mine": row[0], "claimable": row[1], "started": row[2]}


def get_task(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskView:
    """A task the actor may see, with its form's JSON Schema and the draft its holder saved."""
    with uow as tx:
        return task_with_form(tx, org.load_actor(tx.session, actor_id), task_id)


def task_with_form(tx: Transaction, actor: org.Actor, task_id: str) -> TaskView:
    return form_view(tx, actor, visible_task(tx, actor, task_id))


def form_view(tx: Transaction, actor: org.Actor, task: HumanTask) -> TaskView:
    """The task with its form's JSON Schema, and the draft if the actor holds it."""
    instance = tx.session.get(ProcessInstance, task.instance_id)
    form = definitions.load_version(instance.process_version).form(task.form_key)
    form = case_links.with_reference_choices(tx, form, [instance.office_code])  # as the start form
    return _task_view(tx, task, form=form, draft=task.draft if task.assignee_id == actor.id else None)


def save_draft(uow: UnitOfWork, actor_id: int, task_id: str, data: dict[str, Any]) -> TaskView:
    """Keep the actor's entries unsubmitted; a draft of a task nobody holds claims it for the actor."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        view = keep_draft(tx, actor, visible_task(tx, actor, task_id, lock=True), data)
        tx.commit()
        return view


def keep_draft(tx: Transaction, actor: org.Actor, task: HumanTask, data: Any) -> TaskView:
    """Keep `data` as the actor's draft: unchecked but for what no draft may hold (draft_errors)."""
    if not isinstance(data, dict):
        raise InvalidData("a draft is a group of fields", {"": "Must be a group of fields."})
    _require_open(tx, task)
    instance = tx.session.get(ProcessInstance, task.instance_id)
    errors = draft_errors(definitions.load_version(instance.process_version).form(task.form_key), data)
    if errors:
        raise InvalidData("the draft holds more than its form allows, or what cannot be stored", errors)
    if task.assignee_id is None and _is_candidate(actor, task):
        task.assignee_id = actor.id
        audit.record(tx, task.instance_id, "claimed", actor_id=actor.id, task=task)
    elif task.assignee_id != actor.id:
        raise PermissionDenied("only the person who holds a task can save a draft of it")
    task.draft = data
    return _task_view(tx, task, draft=data)


def reassign_task(uow: UnitOfWork, actor_id: int, task_id: str, to_user_id: int) -> TaskView:
    """A supervisor (Regional Director for the offices of the region, Admin) gives the task to
    another person who holds its role in its office."""
    with uow as tx:
        session = tx.session
        actor = org.load_actor(session, actor_id)
        task = visible_task(tx, actor, task_id, lock=True)
        _require_open(tx, task)
        if not may_reassign(actor, task):
            raise PermissionDenied("only a Regional Director or an Admin can reassign a task")
        target = org.load_actor(session, to_user_id)
        if not _is_candidate(target, task):
            raise InvalidData(
                "that person cannot take this task",
                {"assignee": f"{target.name} does not hold {task.lane} in {task.candidate_office}."},
            )
        task.assignee_id = target.id
        task.draft = None
        audit.record(tx, task.instance_id, "reassigned", actor_id=actor.id, task=task, outcome=target.name)
        view = _task_view(tx, task)
        tx.commit()
        return view


def may_reassign(actor: org.Actor, task: HumanTask | TaskView) -> bool:
    office = task.office_code if isinstance(task, HumanTask) else task.office
    return actor.has_role("Admin") or (actor.has_role("Regional Director") and actor.sees_office(office))


def candidates(uow: UnitOfWork, actor_id: int, task_id: str) -> list[tuple[int, str]]:
    """The people the actor could give the open task to (id, name): none unless the actor may
    reassign it (a Regional Director of its region, an Admin)."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        return candidates_for(tx, actor, visible_task(tx, actor, task_id))


def candidates_for(tx: Transaction, actor: org.Actor, task: HumanTask) -> list[tuple[int, str]]:
    if task.candidate_role is None or task.state != "open" or not may_reassign(actor, task):
        return []
    people = org.holders(tx.session, task.candidate_role, task.candidate_office)
    return sorted(((user.id, user.name) for user in people), key=lambda pair: pair[1])


def claim_task(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskView:
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        task = visible_task(tx, actor, task_id, lock=True)
        _require_open(tx, task)
        if task.assignee_id == actor.id:
            return _task_view(tx, task)
        if task.assignee_id is not None:
            raise Conflict(f"the task is already claimed by {_name(tx, task.assignee_id)}")
        if not _is_candidate(actor, task):
            raise PermissionDenied(f"this task is for {task.lane} in {task.candidate_office}")
        task.assignee_id = actor.id
        audit.record(tx, task.instance_id, "claimed", actor_id=actor.id, task=task)
        view = _task_view(tx, task)
        tx.commit()
        return view


def release_task(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskView:
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        task = visible_task(tx, actor, task_id, lock=True)
        _require_open(tx, task)
        if task.assignee_id != actor.id:
            raise PermissionDenied("only the person who holds a task can release it")
        if task.candidate_role is None:
            raise Conflict("this task belongs to you alone and cannot be released")
        task.assignee_id = None
        audit.record(tx, task.instance_id, "released", actor_id=actor.id, task=task)
        view = _task_view(tx, task)
        tx.commit()
        return view


def complete_task(uow: UnitOfWork, actor_id: int, task_id: str, data: dict[str, Any] | None = None) -> InstanceView:
    """Submit the task's form; returns the instance with its next open tasks."""
    data = dict(data or {}) if isinstance(data, dict) else data
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        view = complete(tx, actor, visible_task(tx, actor, task_id), data)
        tx.commit()
        return view


def complete(tx: Transaction, actor: org.Actor, task: HumanTask, data: Any) -> InstanceView:
    """Complete `task` with `data` inside `tx`: validated against its form, the step run and its
    end recorded; what it threw is delivered once `tx` commits."""
    session = tx.session
    # Lock the instance, then read the task again: whoever got here first has now committed.
    instance = session.scalar(
        select(ProcessInstance).where(ProcessInstance.id == task.instance_id).with_for_update(of=ProcessInstance)
    )
    session.refresh(task)
    _require_open(tx, task)
    if not may_act(actor, task):
        if task.assignee_id is not None:
            raise PermissionDenied(f"the task is claimed by {_name(tx, task.assignee_id)}")
        raise PermissionDenied(f"this task is for {task.lane} in {task.candidate_office}")

    loaded = definitions.load_version(instance.process_version)
    workflow = steps.load_workflow(instance, loaded)
    spiff_task = execution.find_task(workflow, task.id)
    if spiff_task is None or not spiff_task.has_state(TaskState.READY):
        raise Conflict("the task is no longer open")
    # The cross-field rules read the case's data the form was shown with (the amount approved earlier).
    form = case_links.with_reference_choices(tx, loaded.form(task.form_key), [instance.office_code])
    data, errors = accepted(form, data, spiff_task.data)
    if not errors:  # the documents its file fields name are this case's, and now this task's
        errors = attachments.link_form_files(tx, task, form, data)
    if errors:
        raise InvalidData("the form has errors", errors)
    execution.run_task(workflow, spiff_task, data, tx.now())

    task.assignee_id = task.assignee_id or actor.id
    task.state, task.completed_at, task.completed_by_id = "completed", tx.now(), actor.id
    audit.record(
        tx, instance.id, "completed_task", actor_id=actor.id, task=task, outcome=_outcome(data), data=data or None
    )
    returned = policy.sends_back(data)
    changes = steps.finish_step(
        tx, instance, workflow, returned_by=actor.name if returned else None, reason=policy.reason_in(data)
    )
    deliver_after_commit(tx, changes.to_deliver)
    return instance_view(tx, instance, workflow)


def _outcome(data: dict[str, Any]) -> str | None:
    for name, value in data.items():
        if policy.is_outcome_field(name) and isinstance(value, (str, int, float, bool)):
            return str(value)[:200]
    return None


def visible_task(tx: Transaction, actor: org.Actor, task_id: str, *, lock: bool = False) -> HumanTask:
    query = select(HumanTask).where(HumanTask.id == str(task_id))
    task = tx.session.scalar(query.with_for_update() if lock else query)
    if task is None or not (
        actor.sees_office(task.office_code) or task.assignee_id == actor.id or _is_candidate(actor, task)
    ):
        raise NotFound(f"no task {task_id}")
    return task


def may_act(actor: org.Actor, task: HumanTask) -> bool:
    """Whether the actor holds the open task or may take it (claim, save a draft, complete)."""
    if task.state != "open":
        return False
    return task.assignee_id == actor.id or (task.assignee_id is None and _is_candidate(actor, task))


def _is_candidate(actor: org.Actor, task: HumanTask) -> bool:
    return task.candidate_role is not None and actor.holds(task.candidate_role, task.candidate_office)


def _require_open(tx: Transaction, task: HumanTask) -> None:
    if task.state == "completed":
        who = _name(tx, task.completed_by_id) if task.completed_by_id else "the process"
        raise Conflict(f"the task was already completed by {who}")
    if task.state != "open":
        instance = tx.session.get(ProcessInstance, task.instance_id)
        if instance is not None and instance.status == "cancelled":
            raise Conflict("the case was cancelled: its tasks are closed")
        raise Conflict("the task is no longer open (the process moved on)")


def _name(tx: Transaction, user_id: int | None) -> str:
    user = tx.session.get(User, user_id) if user_id else None
    return user.name if user else "someone else"


def _task_view(tx: Transaction, task: HumanTask, form: dict | None = None, draft: dict | None = None) -> TaskView:
    instance = tx.session.get(ProcessInstance, task.instance_id)
    return TaskView.of(
        task,
        instance.title,
        form,
        process_name=instance.process_version.name,
        assignee_name=_name(tx, task.assignee_id) if task.assignee_id else None,
        draft=draft,
        breached=instance.sla_breached,
    )
