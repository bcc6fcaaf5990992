"""The append-only audit log of an instance."""

from __future__ import annotations

from typing import Any

from ..store.models import AuditEvent, HumanTask
from ..store.uow import Transaction


def record(
    tx: Transaction,
    instance_id: int,
    kind: str,
    *,
    actor_id: int | None = None,
    task: HumanTask | None = None,
    outcome: str | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (not flushed: its id comes with the next flush)."""
    event = AuditEvent(
        instance_id=instance_id,
        at=tx.now(),
        actor_id=actor_id,
        kind=kind,
        task_id=task.id if task else None,
        element_id=task.element_id if task else None,
        title=task.title if task else None,
        outcome=outcome,
        data=data,
    )
    tx.session.add(event)
    return event
