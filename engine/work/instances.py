"""Cases: starting process instances and reading them back (timeline, data, diagram, forms)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import CallActivity
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from forms.validation import accepted

from ..bpmn import execution
from ..bpmn.case_fields import engine_fields, without_owned
from ..bpmn.parser import form_key
from ..definitions import versions as definitions
from ..definitions.catalog import may_start
from ..errors import InvalidData, NotFound, PermissionDenied
from ..messaging.delivery import deliver_after_commit
from ..org import offices as org
from ..runtime import audit, steps
from ..store.models import AuditEvent, HumanTask, Office, ProcessInstance, User
from ..store.uow import Transaction, UnitOfWork
from ..views import EventView, InstanceView, TaskView
from . import case_links, emergency_start, summary
from .start_drafts import discard_start_draft


def start_instance(
    uow: UnitOfWork,
    actor_id: int,
    process_id: str,
    office_code: str,
    data: dict[str, Any] | None = None,
    *,
    title: str | None = None,
    emergency_id: int | None = None,
) -> InstanceView:
    """Start the latest version of `process_id` for an office, as `actor_id`, with start-form data;
    for an emergency (`emergency_id`, active, of the same office), whose level, crisis type and onset
    date the case reads instead of the form's."""
    data = dict(data or {})
    with uow as tx:
        session = tx.session
        actor = org.load_actor(session, actor_id)
        office = session.get(Office, office_code)
        if office is None or not actor.sees_office(office_code):
            raise NotFound(f"no office {office_code!r} that you work for")
        version = definitions.get_version(tx, process_id)
        loaded = definitions.load_version(version)
        if not may_start(tx, actor, loaded, office_code):
            raise PermissionDenied(f"you may not start {version.name} for {office_code}")
        # A reference to another case is one of the office's generated ones (engine.work.case_links).
        start_form = case_links.with_reference_choices(tx, loaded.form(form_key(loaded.start_event)), [office_code])
        emergency = None
        if emergency_id is not None:
            emergency = emergency_start.emergency_to_start(tx, actor, emergency_id, office_code)
            data |= emergency_start.form_facts(emergency, start_form)
        data, errors = accepted(start_form, data)
        if errors:
            raise InvalidData("the start form has errors", errors)

        instance = steps.create_instance(
            tx,
            version,
            office_code,
            title=title or steps.title_of(data),
            started_by=actor.id,
            emergency_id=emergency.id if emergency else None,
        )
        workflow = steps.new_workflow(loaded)
        # The start task: its data flows on, with the fields the engine owns set from the case
        # (its office; its own reference where the start form holds it).
        own = case_links.own_references(start_form, instance.reference)
        workflow.task_tree.set_data(**without_owned(data), **own, **engine_fields(office_code))
        audit.record(tx, instance.id, "started", actor_id=actor.id, data=data or None)
        discard_start_draft(tx, actor.id, process_id, office_code)
        execution.advance(workflow, tx.now())
        changes = steps.finish_step(tx, instance, workflow)
        view = instance_view(tx, instance, workflow)
        tx.commit()
        deliver_after_commit(tx, changes.to_deliver)
        return view


def get_instance(uow: UnitOfWork, actor_id: int, instance_id: int) -> InstanceView:
    """An instance with its open tasks, its audit timeline and its current data."""
    with uow as tx:
        return read_instance(tx, org.load_actor(tx.session, actor_id), instance_id)


def read_instance(tx: Transaction, actor: org.Actor, instance_id: int) -> InstanceView:
    instance = visible_instance(tx, actor, instance_id)
    loaded = definitions.load_version(instance.process_version)
    return instance_view(tx, instance, steps.load_workflow(instance, loaded))


def visible_instance(tx: Transaction, actor: org.Actor, instance_id: int) -> ProcessInstance:
    instance = tx.session.get(ProcessInstance, instance_id)
    if instance is None or not (actor.sees_office(instance.office_code) or instance.started_by_id == actor.id):
        raise NotFound(f"no instance {instance_id}")
    return instance


def instance_view(tx: Transaction, instance: ProcessInstance, workflow) -> InstanceView:
    session = tx.session
    tasks = session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id == instance.id, HumanTask.state == "open")
        .order_by(HumanTask.created_at, HumanTask.id)
    ).all()
    rows = session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.instance_id == instance.id)
        .order_by(AuditEvent.id)
    ).all()
    events = [EventView.of(event, name) for event, name in rows]
    loaded = definitions.load_version(instance.process_version)
    return InstanceView.of(
        instance,
        tasks=[TaskView.of(t, instance.title, breached=instance.sla_breached) for t in tasks],
        events=events,
        data=execution.current_data(workflow),
        summary=summary.facts(loaded.start_form, loaded.element_forms, events),
    )


def started_by(uow: UnitOfWork, actor_id: int, *, limit: int = 200) -> list[InstanceView]:
    """The instances the actor started, newest first (without timelines or data)."""
    with uow as tx:
        return started_rows(tx, org.load_actor(tx.session, actor_id), limit=limit)


def started_rows(tx: Transaction, actor: org.Actor, *, limit: int = 200, where: tuple = ()) -> list[InstanceView]:
    """The instances the actor started, newest first; `where` narrows them (a search)."""
    rows = tx.session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.started_by_id == actor.id, *where)
        .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
        .limit(limit)
    ).all()
    return [InstanceView.of(row) for row in rows]


@dataclass(frozen=True)
class DiagramView:
    """What a diagram viewer needs: the BPMN XML of the instance's version and where it stands."""

    process_id: str
    xml: str
    completed: list[str]  # element ids run at least once
    active: list[str]  # waiting for a person
    waiting: list[str]  # waiting for a timer, a message or a called process


def diagram(uow: UnitOfWork, actor_id: int, instance_id: int) -> DiagramView:
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        instance = visible_instance(tx, actor, instance_id)
        version = instance.process_version
        loaded = definitions.load_version(version)
        workflow = steps.load_workflow(instance, loaded)
        completed, active, waiting = set(), set(), set()
        drawn_in = getattr(workflow.spec, "file", None)
        for task in workflow.get_tasks():
            if task.workflow is not workflow and getattr(task.workflow.spec, "file", None) != drawn_in:
                continue  # a called process: drawn in its own diagram
            name = task.task_spec.name
            if isinstance(task.task_spec, SubWorkflowTask) and not isinstance(task.task_spec, CallActivity):
                if task.has_state(TaskState.COMPLETED):
                    completed.add(name)
                continue  # an embedded sub-process: its own steps are drawn inside it
            if task.has_state(TaskState.COMPLETED):
                completed.add(name)
            elif isinstance(task.task_spec, CallActivity) and task.has_state(TaskState.STARTED):
                waiting.add(name)  # the called process runs
            elif task.has_state(TaskState.READY | TaskState.STARTED):
                active.add(name)
            elif task.has_state(TaskState.WAITING):
                waiting.add(name)
        return DiagramView(
            instance.process_id,
            definitions.process_file(version, instance.process_id),
            sorted(completed - active - waiting),
            sorted(active),
            sorted(waiting - active),
        )


def forms_of(uow: UnitOfWork, actor_id: int, instance_id: int) -> dict[str, dict]:
    """The form of each element of an instance's version that has one (its called processes
    included): element id -> JSON Schema, to show earlier answers with their labels."""
    with uow as tx:
        instance = visible_instance(tx, org.load_actor(tx.session, actor_id), instance_id)
        return version_forms(instance.process_version)


def version_forms(version) -> dict[str, dict]:
    """Element id -> JSON Schema of every element of a version (its called processes included)
    that names a form."""
    return definitions.load_version(version).element_forms
