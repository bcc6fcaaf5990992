"""Cancelling or withdrawing a running case: who may, and what it closes.

The person who started the case, a Chief of Mission of its office, or a supervisor (a Regional
Director for the offices of the region, an Admin) may cancel a running case, with a reason. In one
unit of work the SpiffWorkflow workflow is cancelled and stored through the path every step takes
(engine.runtime.steps.finish_step), so its open tasks become "cancelled", its timers and message
subscriptions go; the status is `cancelled` and `completed_at` says when the case ended; the
timeline records "cancelled" with the reason; the people concerned are emailed.
"""

from __future__ import annotations

from sqlalchemy import select

from ..definitions import versions as definitions
from ..errors import Conflict, PermissionDenied
from ..messaging.delivery import deliver_after_commit
from ..notifications import case_emails
from ..org import offices as org
from ..runtime import audit, steps
from ..store.models import ProcessInstance
from ..store.uow import Transaction, UnitOfWork
from ..views import InstanceView
from .comments import required_text
from .instances import instance_view, visible_instance

MAX_REASON_CHARS = 2000
CANCELLED = "cancelled"


def may_cancel(actor: org.Actor, instance: ProcessInstance) -> bool:
    """Whether the actor may cancel the instance now: it runs, and the actor may cancel it."""
    return instance.status == "running" and _may_cancel_case(actor, instance)


def _may_cancel_case(actor: org.Actor, instance: ProcessInstance) -> bool:
    return (
        instance.started_by_id == actor.id
        or actor.holds("Chief of Mission", instance.office_code)
        or actor.has_role("Admin")
        or (actor.has_role("Regional Director") and actor.sees_office(instance.office_code))
    )


def cancel_instance(uow: UnitOfWork, actor_id: int, instance_id: int, reason: object) -> InstanceView:
    """Cancel a running case with a reason. Another office's case is NotFound, an actor who may not
    cancel it PermissionDenied, a finished or cancelled case Conflict, no reason InvalidData."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        visible_instance(tx, actor, instance_id)
        instance = tx.session.scalar(  # locked and read again: a step at the same time waits, or wins
            select(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .with_for_update(of=ProcessInstance)
            .execution_options(populate_existing=True)
        )
        if not _may_cancel_case(actor, instance):
            raise PermissionDenied(
                "only whoever started the case, a Chief of Mission of its office, "
                "a Regional Director of its region or an Admin may cancel it"
            )
        if instance.status != "running":
            raise Conflict(f"the case is already {instance.status}")
        written = required_text(reason, "reason", MAX_REASON_CHARS, missing="Say why the case is cancelled.")
        view = cancel(tx, actor, instance, written)
        tx.commit()
        return view


def cancel(tx: Transaction, actor: org.Actor, instance: ProcessInstance, reason: str) -> InstanceView:
    """Cancel the locked, running instance inside `tx` (see the module's docstring)."""
    held_by = case_emails.current_holders(tx, instance.id)  # before their tasks close
    workflow = steps.load_workflow(instance, definitions.load_version(instance.process_version))
    workflow.cancel()
    instance.status, instance.completed_at = CANCELLED, tx.now()
    audit.record(tx, instance.id, CANCELLED, actor_id=actor.id, data={"reason": reason})
    changes = steps.finish_step(tx, instance, workflow)
    case_emails.queue_cancelled(tx, instance, held_by=held_by, actor_id=actor.id, actor_name=actor.name, reason=reason)
    deliver_after_commit(tx, changes.to_deliver)
    return instance_view(tx, instance, workflow)
