"""Read models the engine hands to its callers: plain frozen data, no ORM objects or sessions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .store.models import Attachment, AuditEvent, HumanTask, ProcessInstance


@dataclass(frozen=True)
class TaskView:
    id: str
    instance_id: int
    instance_title: str
    process_id: str
    element_id: str
    title: str
    lane: str | None
    form_key: str | None
    office: str
    assignee_id: int | None
    state: str
    created_at: datetime
    due_at: datetime | None
    completed_at: datetime | None = None
    form: dict | None = None
    process_name: str | None = None
    assignee_name: str | None = None
    draft: dict | None = None
    breached: bool = False  # its case breached an SLA (an escalation fired)
    candidate_role: str | None = None  # the role it is offered to while nobody holds it
    candidate_office: str | None = None  # the office where that role is held (not always the case's)
    instance_reference: str | None = None  # its case's reference (MEFM-HTI-2026-0007), where it is read

    @classmethod
    def of(cls, row: HumanTask, instance_title: str, form: dict | None = None, **extra) -> "TaskView":
        return cls(
            row.id,
            row.instance_id,
            instance_title,
            row.process_id,
            row.element_id,
            row.title,
            row.lane,
            row.form_key,
            row.office_code,
            row.assignee_id,
            row.state,
            row.created_at,
            row.due_at,
            row.completed_at,
            form,
            **{"candidate_role": row.candidate_role, "candidate_office": row.candidate_office, **extra},
        )


@dataclass(frozen=True)
class EventView:
    at: datetime
    kind: str
    actor_id: int | None
    actor_name: str | None
    task_id: str | None
    element_id: str | None
    title: str | None
    outcome: str | None
    data: dict[str, Any] | None

    @classmethod
    def of(cls, row: AuditEvent, actor_name: str | None) -> "EventView":
        return cls(
            row.at, row.kind, row.actor_id, actor_name, row.task_id, row.element_id, row.title, row.outcome, row.data
        )


@dataclass(frozen=True)
class Fact:
    """One key fact of a case: a form field's name, its JSON Schema (labels, options) and the value."""

    name: str
    spec: dict[str, Any]
    value: Any


@dataclass(frozen=True)
class InstanceView:
    id: int
    process_id: str
    process_name: str
    version: int
    office: str
    title: str
    status: str
    sla_breached: bool
    started_by_id: int | None
    started_at: datetime
    completed_at: datetime | None
    tasks: list[TaskView] = field(default_factory=list)
    events: list[EventView] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    summary: list[Fact] = field(default_factory=list)
    reference: str | None = None  # MEFM-HTI-2026-0007 (engine.runtime.references)
    emergency_id: int | None = None

    @classmethod
    def of(cls, row: ProcessInstance, **extra) -> "InstanceView":
        version = row.process_version
        return cls(
            row.id,
            row.process_id,
            version.name,
            version.version,
            row.office_code,
            row.title,
            row.status,
            row.sla_breached,
            row.started_by_id,
            row.started_at,
            row.completed_at,
            **{"reference": row.reference, "emergency_id": row.emergency_id, **extra},
        )


@dataclass(frozen=True)
class AttachmentView:
    """A document on a case, without its bytes."""

    id: int
    instance_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_by_name: str | None
    uploaded_at: datetime
    task_id: str | None = None
    field: str | None = None

    @classmethod
    def of(cls, row: Attachment, uploaded_by_name: str | None) -> "AttachmentView":
        return cls(
            row.id,
            row.instance_id,
            row.name,
            row.content_type,
            row.size,
            row.sha256,
            row.uploaded_by_id,
            uploaded_by_name,
            row.uploaded_at,
            row.task_id,
            row.field,
        )


@dataclass(frozen=True)
class CommentView:
    """A comment on a case: its "commented" audit event (the id is the event's)."""

    id: int
    instance_id: int
    text: str
    author_id: int | None
    author_name: str | None
    at: datetime

    @classmethod
    def of(cls, row: AuditEvent, author_name: str | None) -> "CommentView":
        return cls(row.id, row.instance_id, (row.data or {}).get("text", ""), row.actor_id, author_name, row.at)
