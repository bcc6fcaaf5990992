"""Starting process instances and reading them back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.defaults import CallActivity
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from forms.validation import field_errors

from . import audit, bpmn, definitions, messages, org, runtime
from .errors import InvalidData, NotFound, PermissionDenied
from .models import AuditEvent, HumanTask, Office, ProcessInstance, User
from .uow import UnitOfWork
from .views import EventView, InstanceView, TaskView


def start_event(loaded: definitions.LoadedVersion):
    """The process's none start event (the one a person starts), or None."""
    for spec in messages.start_events(loaded.spec):
        if isinstance(getattr(spec, "event_definition", None), NoneEventDefinition):
            return spec
    return None


def may_start(uow: UnitOfWork, actor: org.Actor, loaded: definitions.LoadedVersion, office: Office) -> bool:
    start = start_event(loaded)
    if start is None:
        return False
    if start.lane is None:
        return actor.sees_office(office.code)
    return actor.holds(start.lane, org.candidate_office(uow.session, start.lane, office))


def start_instance(
    uow: UnitOfWork,
    actor_id: int,
    process_id: str,
    office_code: str,
    data: dict[str, Any] | None = None,
    *,
    title: str | None = None,
) -> InstanceView:
    """Start the latest version of `process_id` for an office, as `actor_id`, with start-form data."""
    data = dict(data or {})
    with uow:
        session = uow.session
        actor = org.load_actor(session, actor_id)
        office = session.get(Office, office_code)
        if office is None or not actor.sees_office(office_code):
            raise NotFound(f"no office {office_code!r} that you work for")
        version = definitions.get_version(uow, process_id)
        loaded = definitions.load_version(version)
        if not may_start(uow, actor, loaded, office):
            raise PermissionDenied(f"you may not start {version.name} for {office_code}")
        start = start_event(loaded)
        errors = field_errors(loaded.form(bpmn.form_key(start)), data)
        if errors:
            raise InvalidData("the start form has errors", errors)

        workflow = runtime.new_workflow(loaded)
        workflow.task_tree.set_data(**data, office=office_code)  # the start task: its data flows on
        now = uow.now()
        instance = ProcessInstance(
            process_version_id=version.id,
            process_version=version,
            process_id=process_id,
            office_code=office_code,
            title=(title or _title(data) or f"{version.name} – {office.name}")[:300],
            status="running",
            state="",
            started_by_id=actor.id,
            started_at=now,
            updated_at=now,
        )
        session.add(instance)
        session.flush()
        audit.record(uow, instance.id, "started", actor_id=actor.id, data=data or None)
        runtime.advance(workflow, now)
        changes = runtime.persist(uow, instance, workflow)
        if instance.status == "completed":
            audit.record(uow, instance.id, "completed")
        session.flush()
        view = instance_view(uow, instance, workflow)
        uow.commit()
    messages.deliver_after_commit(uow, changes.to_deliver)
    return view


def _title(data: dict[str, Any]) -> str | None:
    value = data.get("title")
    return value.strip() if isinstance(value, str) and value.strip() else None


def get_instance(uow: UnitOfWork, actor_id: int, instance_id: int) -> InstanceView:
    """An instance with its open tasks, its audit timeline and its current data."""
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        instance = visible_instance(uow, actor, instance_id)
        loaded = definitions.load_version(instance.process_version)
        return instance_view(uow, instance, runtime.load_workflow(instance, loaded))


def visible_instance(uow: UnitOfWork, actor: org.Actor, instance_id: int) -> ProcessInstance:
    instance = uow.session.get(ProcessInstance, instance_id)
    if instance is None or not (actor.sees_office(instance.office_code) or instance.started_by_id == actor.id):
        raise NotFound(f"no instance {instance_id}")
    return instance


def instance_view(uow: UnitOfWork, instance: ProcessInstance, workflow) -> InstanceView:
    session = uow.session
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
    return InstanceView.of(
        instance,
        tasks=[TaskView.of(t, instance.title) for t in tasks],
        events=[EventView.of(event, name) for event, name in rows],
        data=current_data(workflow),
    )


def current_data(workflow) -> dict[str, Any]:
    """The data as the work stands: the process's result once it ended; else what the most recently
    opened step sees (a task waiting for a person, in a sub-process or a called process too), else
    the last step run. SpiffWorkflow's `last_task` alone can be an engine control task that ran
    before a script changed the data (after a message start)."""
    if workflow.is_completed():
        return dict(workflow.data)
    ready = [t for t in workflow.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    if ready:
        return dict(max(ready, key=lambda t: t.last_state_change).data)
    last = workflow.last_task
    return dict(last.data) if last is not None else dict(workflow.data)


def start_from_message(
    uow: UnitOfWork,
    version,
    loaded: definitions.LoadedVersion,
    office_code: str,
    name: str,
    payload: dict[str, Any],
    *,
    started_by: int | None,
) -> int:
    """A new instance begun by a message (inside the delivering unit of work); returns its id."""
    office = uow.session.get(Office, office_code)
    now = uow.now()
    instance = ProcessInstance(
        process_version_id=version.id,
        process_version=version,
        process_id=version.process_id,
        office_code=office_code,
        title=(_title(payload) or f"{version.name} – {office.name}")[:300],
        status="running",
        state="",
        started_by_id=started_by,
        started_at=now,
        updated_at=now,
    )
    uow.session.add(instance)
    uow.session.flush()
    workflow = runtime.new_workflow(loaded)
    workflow.task_tree.set_data(office=office_code)
    with runtime.failures_as_process_errors():
        messages.begin_with_message(workflow, name, payload)
    audit.record(uow, instance.id, "started", outcome=f"message {name}", data=payload or None)
    runtime.advance(workflow, now)
    runtime.persist(uow, instance, workflow)
    if instance.status == "completed":
        audit.record(uow, instance.id, "completed")
    return instance.id


def started_by(uow: UnitOfWork, actor_id: int, *, limit: int = 200) -> list[InstanceView]:
    """The instances the actor started, newest first (without timelines or data)."""
    with uow:
        org.load_actor(uow.session, actor_id)
        rows = uow.session.scalars(
            select(ProcessInstance)
            .where(ProcessInstance.started_by_id == actor_id)
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
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        instance = visible_instance(uow, actor, instance_id)
        version = instance.process_version
        loaded = definitions.load_version(version)
        workflow = runtime.load_workflow(instance, loaded)
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
    with uow:
        actor = org.load_actor(uow.session, actor_id)
        instance = visible_instance(uow, actor, instance_id)
        loaded = definitions.load_version(instance.process_version)
        found = {}
        for spec in [loaded.spec, *loaded.subprocess_specs.values()]:
            for name, task_spec in spec.task_specs.items():
                form = loaded.form(bpmn.form_key(task_spec))
                if form is not None:
                    found.setdefault(name, form)
        return found
