"""Messages as rows: those a step threw (stored, to be delivered after the commit) and the
`message_subscription` projection of every waiting catch event, with the value it correlates on.

A catch event names the variable it correlates on with the property `correlateOn` (e.g.
`eppe_reference`): it then takes only messages whose payload has the same value under that name.
Every match is scoped to an office: a message reaches only cases of its sender's office
(`office_of`), whatever its payload says, so a reference typed in one country never touches
another country's case.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from sqlalchemy import select

from ..bpmn import events
from ..bpmn.messages import correlate_on, thrown, waiting_catches
from ..store.models import Message, MessageSubscription, ProcessInstance
from ..store.uow import Transaction
from . import audit


def record_thrown(tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[Message]:
    """Store the messages the step threw that no part of this instance caught."""
    stored = []
    for name, payload in thrown(workflow):
        message = Message(
            name=name, payload=payload, source_instance_id=instance.id, state="pending", created_at=tx.now()
        )
        tx.session.add(message)
        stored.append(message)
        audit.record(tx, instance.id, "message_sent", outcome=name, data=payload)
    return stored


def sync_subscriptions(tx: Transaction, instance: ProcessInstance, workflow: BpmnWorkflow) -> list[Message]:
    """Mirror the instance's waiting message catch events; a new one wakes the unmatched messages it
    matches (returned, to be delivered after the commit)."""
    session = tx.session
    woken: list[Message] = []
    if not events.uses(workflow, MessageEventDefinition):
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
            if matches(subscription, message, office_of(tx, message), instance.office_code):
                message.state = "pending"
                woken.append(message)
    for gone in existing.values():
        session.delete(gone)
    return woken


def office_of(tx: Transaction, message: Message) -> str | None:
    """The office a message belongs to: its sending case's. A message posted from outside the cases
    (engine.messaging.delivery.send) belongs to the office its payload names; None when it names
    none: the trusted integration that posted it speaks for every office."""
    if message.source_instance_id is not None:
        source = tx.session.get(ProcessInstance, message.source_instance_id)
        if source is not None:
            return source.office_code
    office = message.payload.get("office")
    return None if office is None else str(office)


def matches(subscription: MessageSubscription, message: Message, office: str | None, waiting_office: str) -> bool:
    """Whether a catch event waiting in a case of `waiting_office` takes a message of `office`
    (office_of): the same office, and the same value of the variable it correlates on."""
    if office is not None and office != waiting_office:
        return False
    if subscription.correlation_key is None:
        return True
    value = message.payload.get(subscription.correlation_key)
    return value is not None and str(value) == subscription.correlation_value
