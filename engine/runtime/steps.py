"""One step of an instance inside an open unit of work: a new instance, its workflow loaded or
created, and the end every step shares (the state stored, every projection brought in line, the
emails queued, the audit told when the process ended)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from ..bpmn import data_size, execution, outcomes, serializer, task_tree
from ..definitions.versions import LoadedVersion, load_version
from ..notifications import policy
from ..store.models import HumanTask, Message, Office, ProcessInstance, ProcessVersion
from ..store.uow import Transaction
from . import audit, decisions, references, search_words, subscriptions, timers
from .human_tasks import sync_human_tasks


def new_workflow(loaded: LoadedVersion) -> BpmnWorkflow:
    return execution.new_workflow(loaded.spec, loaded.subprocess_specs)


def load_workflow(instance: ProcessInstance, loaded: LoadedVersion) -> BpmnWorkflow:
    return execution.restore(instance.state, loaded.spec, loaded.subprocess_specs)


def create_instance(
    tx: Transaction,
    version: ProcessVersion,
    office_code: str,
    *,
    title: str | None,
    started_by: int | None,
    emergency_id: int | None = None,
) -> ProcessInstance:
    """A new running instance of `version` for an office (flushed: it has its id), with its
    reference (engine.runtime.references) and the emergency it belongs to, if any."""
    office = tx.session.get(Office, office_code)
    now = tx.now()
    instance = ProcessInstance(
        process_version_id=version.id,
        process_version=version,
        process_id=version.process_id,
        office_code=office_code,
        title=(title or f"{version.name} – {office.name}")[:300],
        status="running",
        state="",
        started_by_id=started_by,
        started_at=now,
        updated_at=now,
        reference=references.next_reference(tx, references.kind_of(version.process_id), office_code, now.year),
        emergency_id=emergency_id,
    )
    tx.session.add(instance)
    tx.session.flush()
    return instance


def title_of(data: dict[str, Any]) -> str | None:
    """The case title a start form or a message gives (its `title` field), if any."""
    value = data.get("title")
    return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass
class Changes:
    """What a step changed besides the state: tasks opened, timers fired, messages to deliver."""

    opened: list[HumanTask]
    timers: timers.TimerChanges
    to_deliver: list[Message]  # thrown or woken by this step; delivered after the commit


def finish_step(
    tx: Transaction,
    instance: ProcessInstance,
    workflow: BpmnWorkflow,
    *,
    returned_by: str | None = None,
    reason: str | None = None,
) -> Changes:
    """Store the state, bring every projection (human tasks, timers, subscriptions) in line with it,
    queue the emails the step causes (the outcomes its diagram marks among them) and record the end
    of the process, and keep the words the case list finds the case by. `returned_by` names who sent
    work back for revision, `reason` says why."""
    previous = instance.state
    save(tx, instance, workflow)
    timer_changes = timers.sync_timers(tx, instance, workflow)
    opened = sync_human_tasks(tx, instance, workflow)
    to_deliver = subscriptions.record_thrown(tx, instance, workflow)
    to_deliver += subscriptions.sync_subscriptions(tx, instance, workflow)
    reached = outcomes.reached(workflow, lambda: serializer.task_states(previous))
    returned = policy.returned_by_step(tx, reached, returned_by, reason)
    told_of_return = policy.queue_for_opened_tasks(tx, instance, opened, returned=returned)
    policy.queue_for_outcomes(tx, instance, reached, already_told=told_of_return)
    for told in policy.queue_for_fired_timers(tx, instance, workflow, timer_changes.fired):
        data = {"timer": told.timer_title, "people": told.people, "roles": told.roles}
        audit.record(tx, instance.id, "notified", outcome=told.kind, data=data)
    if instance.status == "completed":
        audit.record(tx, instance.id, "completed")
    decisions.record_decision(tx, instance, reached)
    search_words.index_case(tx, instance, load_version(instance.process_version), execution.current_data(workflow))
    tx.session.flush()
    return Changes(opened, timer_changes, to_deliver)


def save(tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow) -> None:
    """The one place a case becomes completed: only once its workflow has really run to its end.
    The one place a state is stored too: not when its data is over the limit (ProcessFailure)."""
    data_size.require_within(workflow)
    instance.state = serializer.dump(workflow)
    instance.updated_at = tx.now()
    if workflow.is_completed() and instance.status == "running":  # a cancelled workflow is completed too
        task_tree.require_the_end(workflow)
        instance.status = "completed"
        instance.completed_at = tx.now()
