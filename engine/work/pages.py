"""Page read models: everything a staff page shows, read in one call and one transaction (the
task page, the inbox, the instance page), and the task page's submission as one unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ..definitions import versions as definitions
from ..errors import Conflict, InvalidData, PermissionDenied
from ..notifications import policy
from ..org import offices as org
from ..store.uow import Transaction, UnitOfWork
from ..views import AttachmentView, EventView, InstanceView, TaskView
from . import attachments, cancel, case_list, instances, tasks

Tab = Literal["all", "mine", "claimable", "started"]


@dataclass(frozen=True)
class TaskPage:
    task: TaskView  # with its form's JSON Schema, and the draft when the actor holds it
    instance: InstanceView  # timeline and current data
    forms: dict[str, dict]  # element id -> JSON Schema, to show earlier answers with their labels
    candidates: list[tuple[int, str]]  # whom the actor may give the task to (a supervisor), else empty
    mine: bool
    may_act: bool  # the actor holds the task or may take it; else the page is read-only
    attachments: list[AttachmentView]
    may_cancel: bool
    start_form: dict | None  # to show the request's own answers among the earlier ones
    returned: EventView | None  # the step that sent this work back for revision, if it did


@dataclass(frozen=True)
class Submission:
    """What submitting the task page did: the task completed (`completed`, the instance with its
    next tasks), a draft kept (`draft`), or refused (`refused`, the page to show again with the
    entries in `values`): with per-field `errors`, because somebody acted first (`conflict`) or
    because the actor may not act on it (`denied`). Nothing is saved when refused."""

    task_id: str
    instance_id: int
    title: str
    completed: InstanceView | None = None
    draft: TaskView | None = None
    refused: TaskPage | None = None
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    conflict: str | None = None  # somebody acted first (`refused` holds the page as it is now)
    denied: str | None = None  # the actor may not act on the task (any more)


@dataclass(frozen=True)
class InboxPage:
    tab: Tab
    rows: list[TaskView]  # the tasks of the tab (empty on "started")
    started: list[InstanceView]  # the instances the actor started (the "started" tab)
    processes: dict[str, str]  # process id -> name, for the filter
    offices: list[str]  # the offices to filter by
    counts: dict[str, int]  # tab -> how many it holds under the same filters and search


@dataclass(frozen=True)
class InstancePage:
    instance: InstanceView
    forms: dict[str, dict]
    attachments: list[AttachmentView]
    may_cancel: bool
    start_form: dict | None


def task_page(uow: UnitOfWork, actor_id: int, task_id: str) -> TaskPage:
    with uow as tx:
        return _task_page(tx, org.load_actor(tx.session, actor_id), task_id)


def _task_page(tx: Transaction, actor: org.Actor, task_id: str) -> TaskPage:
    row = tasks.visible_task(tx, actor, task_id)
    task = tasks.form_view(tx, actor, row)
    instance = instances.read_instance(tx, actor, task.instance_id)
    stored = instances.visible_instance(tx, actor, task.instance_id)
    loaded = definitions.load_version(stored.process_version)
    return TaskPage(
        task,
        instance,
        loaded.element_forms,
        tasks.candidates_for(tx, actor, row),
        task.assignee_id == actor.id,
        tasks.may_act(actor, row),
        attachments.listed(tx, stored.id),
        cancel.may_cancel(actor, stored),
        loaded.start_form,
        _sent_back(instance.events, task),
    )


def _sent_back(events: list[EventView], task: TaskView) -> EventView | None:
    """The step completed just before this task opened, if it sent the work back for revision."""
    before = [e for e in events if e.kind == "completed_task" and e.at <= task.created_at]
    last = before[-1] if before else None
    return last if last is not None and isinstance(last.data, dict) and policy.sends_back(last.data) else None


def submit_task(
    uow: UnitOfWork,
    actor_id: int,
    task_id: str,
    read: Callable[[dict], dict],
    *,
    draft: bool = False,
    max_bytes: int = attachments.DEFAULT_MAX_BYTES,
) -> Submission:
    """Read the submitted form with `read(schema)` and complete the task (or keep it as a draft):
    one unit of work, whatever the outcome. The files of its file fields (`Upload` values) become
    attachments of the case in the same unit of work: a refused form stores none of them."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        row = tasks.visible_task(tx, actor, task_id, lock=draft)
        view = tasks.form_view(tx, actor, row)
        values = read(view.form or {})
        done = Submission(task_id, view.instance_id, view.title, values=attachments.without_uploads(values))
        with_files = done.values != values
        try:
            values = attachments.store_form_files(tx, actor, row, view.form, values, max_bytes=max_bytes)
            if draft:
                kept = tasks.keep_draft(tx, actor, row, values)
                tx.commit()
                return _replace(done, draft=kept)
            completed = tasks.complete(tx, actor, row, values)
            tx.commit()
            return _replace(done, completed=completed)
        except (InvalidData, Conflict, PermissionDenied) as refused:
            if with_files:  # the files stored are undone, so that the page shows the case as it is
                tx.session.rollback()
            return _refused(tx, actor, done, refused)


def _refused(tx: Transaction, actor: org.Actor, done: Submission, refused: Exception) -> Submission:
    page = _task_page(tx, actor, done.task_id)
    if isinstance(refused, InvalidData):
        return _replace(done, refused=page, errors=refused.fields)
    if isinstance(refused, Conflict):  # a race: the entries go back to the page, with why
        return _replace(done, refused=page, conflict=str(refused))
    return _replace(done, refused=page, denied=str(refused))


def _replace(submission: Submission, **changes) -> Submission:
    return Submission(**{**submission.__dict__, **changes})


def inbox_page(
    uow: UnitOfWork,
    actor_id: int,
    *,
    tab: Tab = "all",
    process_id: str | None = None,
    office: str | None = None,
    due_before: datetime | None = None,
    q: str = "",
    sort: str = "due",
) -> InboxPage:
    """The inbox's tab, narrowed and searched (as the case list searches), sorted by a column, with
    the count of every tab under the same filters."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        narrowed = tasks.InboxFilter(process_id, office, due_before, q)
        rows, started = [], []
        if tab == "started":
            started = instances.started_rows(tx, actor, where=tuple(case_list.searched(q)))
        else:
            rows = tasks.inbox_rows(
                tx, actor, which=tab, process_id=process_id, office=office, due_before=due_before, q=q, sort=sort
            )
        processes = {v.process_id: v.name for v in definitions.latest_versions(tx)}
        offices = sorted({where for _, where in actor.memberships} | {t.office for t in rows})
        return InboxPage(tab, rows, started, processes, offices, tasks.inbox_counts(tx, actor, narrowed))


def instance_page(uow: UnitOfWork, actor_id: int, instance_id: int) -> InstancePage:
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        instance = instances.read_instance(tx, actor, instance_id)
        stored = instances.visible_instance(tx, actor, instance_id)
        loaded = definitions.load_version(stored.process_version)
        found = attachments.listed(tx, stored.id)
        return InstancePage(instance, loaded.element_forms, found, cancel.may_cancel(actor, stored), loaded.start_form)
