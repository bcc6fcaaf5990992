"""Messages between processes: thrown messages are stored in the unit of work that threw them,
then delivered, each in its own unit of work, to the instance waiting for them (matched by name
and by the value its catch event correlates on) or to a new instance of the process whose start
event catches them. A message nobody waits for is kept as `unmatched`, visible, and delivered as
soon as a matching catch event appears.

A catch event names the variable it correlates on with the property `correlateOn` (e.g.
`eppe_reference`): it then takes only messages whose payload has the same value under that name.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import StartEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from . import audit, bpmn, definitions
from . import clock as clocks
from .models import Message, MessageSubscription, Office, ProcessInstance
from .uow import Database, UnitOfWork

log = logging.getLogger("doeflow.messages")

CORRELATE_PROPERTY = "correlateOn"
MAX_DELIVERY_ROUNDS = 100  # a chain of processes messaging each other, bounded


def correlate_on(task_spec) -> str | None:
    value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(CORRELATE_PROPERTY)
    return value.strip() if value and value.strip() else None


def _json_safe(payload: Any) -> dict[str, Any]:
    """Payloads are JSON objects; anything else is wrapped, unknown types become text."""
    value = payload if isinstance(payload, dict) else {"value": payload}
    return json.loads(json.dumps(value, default=str))


def record_thrown(uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[Message]:
    """Store the messages the step threw that no part of this instance caught."""
    stored = []
    for event in workflow.get_events():
        if not isinstance(event.event_definition, MessageEventDefinition):
            continue
        message = Message(
            name=event.event_definition.name,
            payload=_json_safe(event.payload),
            source_instance_id=instance.id,
            state="pending",
            created_at=uow.now(),
        )
        uow.session.add(message)
        stored.append(message)
        audit.record(uow, instance.id, "message_sent", outcome=message.name, data=message.payload)
    return stored


def waiting_catches(workflow: BpmnWorkflow):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and not isinstance(task.task_spec, StartEvent):
            yield task


def sync_subscriptions(uow: UnitOfWork, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[Message]:
    """Mirror the instance's waiting message catch events; a new one wakes the unmatched messages it
    matches (returned, to be delivered after the commit)."""
    session = uow.session
    woken = []
    if not bpmn.uses(workflow, MessageEventDefinition):
        return woken  # a process that catches no message has no subscriptions
    existing = {
        s.task_id: s
        for s in session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == instance.id))
    }
    for task in waiting_catches(workflow):
        task_id = str(task.id)
        if existing.pop(task_id, None) is not None:
            continue
        key = correlate_on(task.task_spec)
        value = task.data.get(key) if key else None
        subscription = MessageSubscription(
            instance_id=instance.id,
            task_id=task_id,
            name=task.task_spec.event_definition.name,
            correlation_key=key,
            correlation_value=None if value is None else str(value),
        )
        session.add(subscription)
        for message in session.scalars(
            select(Message).where(Message.state == "unmatched", Message.name == subscription.name)
        ):
            if _matches(subscription, message):
                message.state = "pending"
                woken.append(message)
    for gone in existing.values():
        session.delete(gone)
    return woken


def send(uow: UnitOfWork, name: str, payload: dict[str, Any]) -> int:
    """Post a message from outside the instances (an integration, an administrator, a test): it is
    stored and delivered exactly as a thrown one. Returns its id."""
    with uow:
        message = Message(name=name, payload=_json_safe(payload), state="pending", created_at=uow.now())
        uow.session.add(message)
        uow.commit()
        message_id = message.id
    deliver_after_commit(uow, [message])
    return message_id


def _matches(subscription: MessageSubscription, message: Message) -> bool:
    if subscription.correlation_key is None:
        return True
    value = message.payload.get(subscription.correlation_key)
    return value is not None and str(value) == subscription.correlation_value


@dataclass
class DeliveryResult:
    delivered: int = 0
    started: int = 0
    unmatched: int = 0


def deliver_after_commit(uow: UnitOfWork, to_deliver: list[Message]) -> None:
    """Deliver what a committed unit of work threw or woke; a failure leaves them pending for the ticker."""
    if not to_deliver:
        return
    try:
        deliver_pending(uow.database, uow.clock)
    except Exception:  # the thrower's action is committed; the ticker retries the delivery
        log.exception("delivering messages failed; they stay pending")


def deliver_pending(database: Database, clock: clocks.Clock) -> DeliveryResult:
    """Deliver every pending message, including those the deliveries themselves throw."""
    result = DeliveryResult()
    for _ in range(MAX_DELIVERY_ROUNDS):
        with database.unit_of_work(clock, write=False) as uow:
            pending = list(
                uow.session.scalars(select(Message.id).where(Message.state == "pending").order_by(Message.id))
            )
        if not pending:
            return result
        for message_id in pending:
            outcome = deliver(database, clock, message_id)
            if outcome:
                setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def wake_unmatched(database: Database, clock: clocks.Clock) -> DeliveryResult:
    """Give the unmatched messages another try when a process is published: one that starts on
    them may have just appeared."""
    with database.unit_of_work(clock) as uow:
        names = {
            spec.event_definition.name
            for version in definitions.latest_versions(uow)
            for spec in start_events(definitions.load_version(version).spec)
            if isinstance(getattr(spec, "event_definition", None), MessageEventDefinition)
        }
        woken = 0
        if names:
            for message in uow.session.scalars(
                select(Message).where(Message.state == "unmatched", Message.name.in_(names))
            ):
                message.state = "pending"
                woken += 1
        uow.commit()
    return deliver_pending(database, clock) if woken else DeliveryResult()


def deliver(database: Database, clock: clocks.Clock, message_id: int) -> str | None:
    """Deliver one message in one unit of work; returns 'delivered', 'started', 'unmatched' or
    None when somebody else delivered it first."""
    from . import instances, runtime  # they import this module for persist()

    with database.unit_of_work(clock) as uow:
        session = uow.session
        message = session.scalar(
            select(Message)
            .where(Message.id == message_id, Message.state == "pending")
            .with_for_update(skip_locked=True)
        )
        if message is None:
            return None
        subscriptions = session.scalars(
            select(MessageSubscription).where(MessageSubscription.name == message.name).order_by(MessageSubscription.id)
        )
        for subscription in subscriptions:
            if not _matches(subscription, message):
                continue
            instance = session.scalar(
                select(ProcessInstance)
                .where(ProcessInstance.id == subscription.instance_id)
                .with_for_update(of=ProcessInstance)
            )
            workflow = runtime.load_workflow(instance, definitions.load_version(instance.process_version))
            waiting = runtime.find_task(workflow, subscription.task_id)
            if waiting is None or not waiting.has_state(TaskState.WAITING):
                continue
            with runtime.failures_as_process_errors():
                catch(workflow, waiting, dict(message.payload))
            audit.record(uow, instance.id, "message_received", outcome=message.name, data=message.payload)
            runtime.advance(workflow, uow.now())
            runtime.persist(uow, instance, workflow)
            _mark(message, "delivered", instance.id, uow.now())
            uow.commit()
            return "delivered"

        started = _start_by_message(uow, message, instances)
        if started is not None:
            _mark(message, "delivered", started, uow.now())
            uow.commit()
            return "started"
        message.state = "unmatched"
        uow.commit()
        return "unmatched"


def _mark(message: Message, state: str, target: int, now: datetime) -> None:
    message.state, message.target_instance_id, message.delivered_at = state, target, now


def _start_by_message(uow: UnitOfWork, message: Message, instances) -> int | None:
    """Start the process whose start event catches this message, for the office in its payload."""
    for version in definitions.latest_versions(uow):
        loaded = definitions.load_version(version)
        if message_start_event(loaded, message.name) is None:
            continue
        source = uow.session.get(ProcessInstance, message.source_instance_id) if message.source_instance_id else None
        office = message.payload.get("office") or (source.office_code if source else None)
        if office is None or uow.session.get(Office, office) is None:
            message.last_error = f"{version.process_id} starts on {message.name}, but the message names no office"
            return None
        return instances.start_from_message(
            uow,
            version,
            loaded,
            office,
            message.name,
            dict(message.payload),
            started_by=source.started_by_id if source else None,
        )
    return None


def message_start_event(loaded: definitions.LoadedVersion, name: str):
    for spec in start_events(loaded.spec):
        definition = getattr(spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            return spec
    return None


def start_events(spec) -> list:
    """The start events of a process spec (behind the split SpiffWorkflow adds when there are several)."""
    found = []
    for output in spec.start.outputs:
        found += output.outputs if isinstance(output, StartEventSplit) else [output]
    return found


def begin_with_message(workflow: BpmnWorkflow, name: str, payload: dict[str, Any]) -> None:
    """Make a new workflow begin at its message start event `name`, not at any other start event."""
    # Run only the engine's own start tasks: a none start event must not fire first.
    workflow.task_tree.run()
    for task in workflow.get_tasks(state=TaskState.READY):
        if isinstance(task.task_spec, StartEventSplit):
            task.run()
    for task in workflow.get_tasks(state=TaskState.READY | TaskState.FUTURE):
        if isinstance(task.task_spec, StartEvent) and isinstance(
            getattr(task.task_spec, "event_definition", None), MessageEventDefinition
        ):
            task._set_state(TaskState.WAITING)
    start = _waiting_start(workflow, name)
    if start is None:
        raise ValueError(f"the process does not start on the message {name}")
    catch(workflow, start, payload)
    for task in workflow.get_tasks():
        if isinstance(task.task_spec, StartEvent) and task is not start and not task.has_state(TaskState.FINISHED_MASK):
            task.cancel()


def catch(workflow: BpmnWorkflow, waiting, payload: dict[str, Any]) -> None:
    """Hand the payload to a waiting catch event. Unless the diagram names a variable to receive it
    (spiffworkflow:messageVariable), its fields become task data, as a form's fields do."""
    definition = waiting.task_spec.event_definition
    workflow.send_event(BpmnEvent(definition, payload))
    if getattr(definition, "message_var", None) is None:
        waiting.set_data(**payload)


def _waiting_start(workflow: BpmnWorkflow, name: str):
    for task in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if (
            isinstance(task.task_spec, StartEvent)
            and isinstance(definition, MessageEventDefinition)
            and definition.name == name
        ):
            return task
    return None


def undelivered(database: Database) -> list[Message]:
    """Messages nobody has taken yet, oldest first (for administrators)."""
    with database.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(Message).where(Message.state != "delivered").order_by(Message.id)))
        uow.session.expunge_all()
        return rows
