"""Messages as rows: those a step threw (stored, to be delivered after the commit) and the
`message_subscription` projection of every waiting catch event, with the value it correlates on.

A catch event names the variable it correlates on with the property `correlateOn` (e.g.
`eppe_reference`): it then takes only messages whose payload has the same value under that name.
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
            if matches(subscription, message):
                message.state = "pending"
                woken.append(message)
    for gone in existing.values():
        session.delete(gone)
    return woken


def matches(subscription: MessageSubscription, message: Message) -> bool:
    if subscription.correlation_key is None:
        return True
    value = message.payload.get(subscription.correlation_key)
    return value is not None and str(value) == subscription.correlation_value
