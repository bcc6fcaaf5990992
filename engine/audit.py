"""The append-only audit log of an instance."""

from __future__ import annotations

from typing import Any

from .models import AuditEvent, HumanTask
from .uow import UnitOfWork


def record(
    uow: UnitOfWork,
    instance_id: int,
    kind: str,
    *,
    actor_id: int | None = None,
    task: HumanTask | None = None,
    outcome: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    uow.session.add(
        AuditEvent(
            instance_id=instance_id,
            at=uow.now(),
            actor_id=actor_id,
            kind=kind,
            task_id=task.id if task else None,
            element_id=task.element_id if task else None,
            title=task.title if task else None,
            outcome=outcome,
            data=data,
        )
    )
