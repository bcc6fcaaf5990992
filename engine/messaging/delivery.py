"""Messages between processes: a thrown message is stored in the unit of work that threw it
(engine.runtime.subscriptions), then delivered, each in its own unit of work, to the instance
waiting for it (matched by name, by the value its catch event correlates on and by office) or to
a new instance, in the sender's office, of the process whose start event catches it. A message
nobody waits for is kept as `unmatched`, visible, and delivered as soon as a matching catch event
appears.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from .. import clock as clocks
from ..bpmn import execution
from ..bpmn.case_fields import engine_fields
from ..bpmn.messages import begin_with_message, catch, json_safe, message_start_event, message_start_names
from ..definitions import versions
from ..errors import ProcessFailure
from ..runtime import audit, steps
from ..runtime.subscriptions import matches, office_of
from ..store.models import Message, MessageSubscription, Office, ProcessInstance
from ..store.uow import Database, Transaction, UnitOfWork

log = logging.getLogger("doeflow.messages")

MAX_DELIVERY_ROUNDS = 100  # a chain of processes messaging each other, bounded


@dataclass
class DeliveryResult:
    delivered: int = 0
    started: int = 0
    unmatched: int = 0


def deliver_after_commit(tx: Transaction, to_deliver: list[Message]) -> None:
    """Once `tx` has committed, deliver what it threw or woke; a failure leaves them pending for
    the ticker."""
    if to_deliver:
        database, clock = tx.database, tx.clock
        tx.after_commit(lambda: deliver_pending(database, clock))


def send(uow: UnitOfWork, name: str, payload: dict[str, Any]) -> int:
    """Post a message from outside the instances (an integration, an administrator, a test): it is
    stored and delivered exactly as a thrown one, to cases of the office its payload names (naming
    none: of any office; engine.runtime.subscriptions.office_of). Returns its id."""
    with uow as tx:
        message = Message(name=name, payload=json_safe(payload), state="pending", created_at=tx.now())
        tx.session.add(message)
        tx.commit()
        deliver_after_commit(tx, [message])
        return message.id


def deliver_pending(database: Database, clock: clocks.Clock) -> DeliveryResult:
    """Deliver every pending message, including those the deliveries themselves throw."""
    result = DeliveryResult()
    for _ in range(MAX_DELIVERY_ROUNDS):
        with database.unit_of_work(clock, write=False) as tx:
            pending = list(
                tx.session.scalars(select(Message.id).where(Message.state == "pending").order_by(Message.id))
            )
        if not pending:
            return result
        for message_id in pending:
            try:
                outcome = deliver(database, clock, message_id)
            except ProcessFailure as error:  # the step it caused failed (a script, its budget): nothing of it kept
                outcome = _failed(database, clock, message_id, error)
            if outcome:
                setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _failed(database: Database, clock: clocks.Clock, message_id: int, error: ProcessFailure) -> None:
    """Park a message whose delivery failed as `failed`, with the error, for an administrator: kept,
    not retried on every tick, and no longer in the way of the messages after it."""
    log.warning("message %s could not be delivered: %s", message_id, error)
    with database.unit_of_work(clock) as tx:
        message = tx.session.get(Message, message_id)
        if message is not None and message.state == "pending":
            message.state, message.last_error = "failed", str(error)[:2000]
        tx.commit()


def wake_unmatched(database: Database, clock: clocks.Clock) -> DeliveryResult:
    """Give the unmatched messages another try when a process is published: one that starts on
    them may have just appeared."""
    with database.unit_of_work(clock) as tx:
        names = set().union(*(message_start_names(versions.load_version(v).spec) for v in versions.latest_versions(tx)))
        woken = 0
        if names:
            for message in tx.session.scalars(
                select(Message).where(Message.state == "unmatched", Message.name.in_(names))
            ):
                message.state = "pending"
                woken += 1
        tx.commit()
    return deliver_pending(database, clock) if woken else DeliveryResult()


def deliver(database: Database, clock: clocks.Clock, message_id: int) -> str | None:
    """Deliver one message in one unit of work; returns 'delivered', 'started', 'unmatched' or
    None when somebody else delivered it first."""
    with database.unit_of_work(clock) as tx:
        session = tx.session
        message = session.scalar(
            select(Message)
            .where(Message.id == message_id, Message.state == "pending")
            .with_for_update(skip_locked=True)
        )
        if message is None:
            return None
        if _deliver_to_waiting(tx, message):
            outcome = "delivered"
        elif _start_by_message(tx, message) is not None:
            outcome = "started"
        else:
            message.state = outcome = "unmatched"
        tx.commit()
        return outcome


def _deliver_to_waiting(tx: Transaction, message: Message) -> bool:
    session = tx.session
    office = office_of(tx, message)
    subscriptions = session.execute(
        select(MessageSubscription, ProcessInstance.office_code)
        .join(ProcessInstance, ProcessInstance.id == MessageSubscription.instance_id)
        .where(MessageSubscription.name == message.name)
        .order_by(MessageSubscription.id)
    ).all()
    for subscription, waiting_office in subscriptions:
        if not matches(subscription, message, office, waiting_office):
            continue
        instance = session.scalar(
            select(ProcessInstance)
            .where(ProcessInstance.id == subscription.instance_id)
            .with_for_update(of=ProcessInstance)
        )
        if instance.status != "running":  # cancelled meanwhile: it takes no message
            continue
        workflow = steps.load_workflow(instance, versions.load_version(instance.process_version))
        waiting = execution.find_task(workflow, subscription.task_id)
        if waiting is None or not waiting.has_state(TaskState.WAITING):
            continue
        with execution.failures_as_process_errors():
            catch(workflow, waiting, dict(message.payload))
        audit.record(tx, instance.id, "message_received", outcome=message.name, data=message.payload)
        execution.advance(workflow, tx.now())
        steps.finish_step(tx, instance, workflow)
        _mark(message, instance.id, tx.now())
        return True
    return False


def _mark(message: Message, target: int, now: datetime) -> None:
    message.state, message.target_instance_id, message.delivered_at = "delivered", target, now


def _start_by_message(tx: Transaction, message: Message) -> int | None:
    """Start the process whose start event catches this message, for the message's office: its
    sender's (office_of), never another one its payload names."""
    for version in versions.latest_versions(tx):
        loaded = versions.load_version(version)
        if message_start_event(loaded.spec, message.name) is None:
            continue
        source = tx.session.get(ProcessInstance, message.source_instance_id) if message.source_instance_id else None
        office = office_of(tx, message)
        if office is None or tx.session.get(Office, office) is None:
            message.last_error = f"{version.process_id} starts on {message.name}, but the message names no office"
            return None
        payload = dict(message.payload)
        # A case started by another of its office's (an MEFM bridge by its EPPE) joins its emergency.
        emergency = source.emergency_id if source is not None and source.office_code == office else None
        instance = steps.create_instance(
            tx,
            version,
            office,
            title=steps.title_of(payload),
            started_by=source.started_by_id if source else None,
            emergency_id=emergency,
        )
        workflow = steps.new_workflow(loaded)
        workflow.task_tree.set_data(**engine_fields(office))
        with execution.failures_as_process_errors():
            begin_with_message(workflow, message.name, payload)
        audit.record(tx, instance.id, "started", outcome=f"message {message.name}", data=payload or None)
        execution.advance(workflow, tx.now())
        steps.finish_step(tx, instance, workflow)
        _mark(message, instance.id, tx.now())
        return instance.id
    return None


def undelivered(uow: UnitOfWork) -> list[Message]:
    """Messages nobody has taken yet, oldest first (for administrators)."""
    with uow as tx:
        rows = list(tx.session.scalars(select(Message).where(Message.state != "delivered").order_by(Message.id)))
        tx.session.expunge_all()
        return rows
