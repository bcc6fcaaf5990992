"""Persistent model: organisation (offices, roles, users), process versions and instances,
the projections (human tasks, timers, message subscriptions), the audit log and the email outbox.
Plain SQLAlchemy 2 typed mappings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base
from .reporting import CaseDecision as CaseDecision  # one module per aggregate, all reached here

# JSON documents: JSONB on PostgreSQL, JSON text elsewhere.
Json = JSON().with_variant(JSONB(), "postgresql")
Word = String(40).with_variant(String(40, collation="C"), "postgresql")  # byte order: a prefix is a range

OFFICE_KINDS = ("hq", "regional", "country")
ROLE_SCOPES = ("country", "regional", "hq")


class Office(Base):
    __tablename__ = "office"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # one of OFFICE_KINDS
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("office.code"))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")

    @property
    def regional_code(self) -> str:
        """The regional office this office answers to (itself for a regional office)."""
        if self.kind == "country" and self.parent_code:
            return self.parent_code
        return self.code


class Role(Base):
    """A role is what a BPMN lane names; its scope says in which office it is held."""

    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # one of ROLE_SCOPES


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class Membership(Base):
    """User holds role in office."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "role_name", "office_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    role_name: Mapped[str] = mapped_column(ForeignKey("role.name"))
    office_code: Mapped[str] = mapped_column(ForeignKey("office.code"))

    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    """Bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]


class UserSession(Base):
    """A browser session opened by signing in; the cookie holds its key, only the key's SHA-256 is
    stored. Signing out ends it, so a cookie copied before no longer signs anyone in."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class ProcessVersion(Base):
    """One published version of a process: the files it runs from, frozen."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(300))
    # file name -> text (bpmn, dmn, forms/*.json); deferred: read only when a version is first parsed
    files: Mapped[dict[str, str]] = mapped_column(Json, deferred=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    published_at: Mapped[datetime]


class ProcessDraft(Base):
    """A process manager's work in progress on a process: its files as last saved, not yet published."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    # file name -> text, as ProcessVersion.files: .bpmn, .dmn and forms/<key>.json
    files: Mapped[dict[str, str]] = mapped_column(Json, deferred=True)
    based_on_version: Mapped[int | None]
    problems: Mapped[list[dict[str, Any]]] = mapped_column(Json, default=list)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime]
    published_version: Mapped[int | None]
    revision: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": revision}


class Emergency(Base):
    """An emergency a country office responds to (Hurricane Marisol in Haiti, L3), declared by the
    regional office; the cases of its response belong to it."""

    __tablename__ = "emergency"
    __table_args__ = (Index("ix_emergency_office_status", "office_code", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # EM-HTI-2026-0001
    office_code: Mapped[str] = mapped_column(ForeignKey("office.code"))
    name: Mapped[str] = mapped_column(String(200))
    crisis_type: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(2))  # L1, L2, L3
    onset_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, closed
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EmergencyEvent(Base):
    """The history of an emergency: declared, level changed (from, to), closed, reopened."""

    __tablename__ = "emergency_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    emergency_id: Mapped[int] = mapped_column(ForeignKey("emergency.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # declared, level, closed, reopened
    level: Mapped[str | None] = mapped_column(String(2))  # the level from then on
    previous_level: Mapped[str | None] = mapped_column(String(2))
    note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    at: Mapped[datetime]


class ReferenceCounter(Base):
    """The last number given under a reference prefix (MEFM-HTI-2026): the next case takes the
    next one. The row is locked while it is taken, so two cases never share a number."""

    __tablename__ = "reference_counter"

    prefix: Mapped[str] = mapped_column(String(32), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_instance_office_status", "office_code", "status"),
        Index("ix_instance_started_at", "started_at"),  # the case list's sorts
        Index("ix_instance_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process_id: Mapped[str] = mapped_column(String(200))
    office_code: Mapped[str] = mapped_column(ForeignKey("office.code"))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16))  # running, completed, cancelled
    state: Mapped[str] = mapped_column(Text)  # SpiffWorkflow state without its spec (see engine/bpmn/serializer.py)
    sla_breached: Mapped[bool] = mapped_column(default=False)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), index=True)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(default=1)
    # The case's own readable name, given when it is created (engine.runtime.references):
    # MEFM-HTI-2026-0007. The references that link cases are these, never typed ones.
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    emergency_id: Mapped[int | None] = mapped_column(ForeignKey("emergency.id", ondelete="SET NULL"), index=True)

    process_version: Mapped[ProcessVersion] = relationship(lazy="joined", innerjoin=True)

    # SQLAlchemy's version counter: an UPDATE that finds another revision raises StaleDataError.
    __mapper_args__ = {"version_id_col": revision}


class CaseWord(Base):
    """The case list's search index: the words of each case (engine.runtime.search_words). A word
    prefix searched is one range of the primary key, flat however many cases there are."""

    __tablename__ = "case_word"
    __table_args__ = (Index("ix_case_word_instance", "instance_id", "word"),)

    word: Mapped[str] = mapped_column(Word, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)


class HumanTask(Base):
    """Projection of the ready (and past) user and manual tasks, so the inbox never reads state."""

    __tablename__ = "human_task"
    __table_args__ = (
        Index("ix_human_task_candidates", "state", "candidate_role", "candidate_office", "due_at"),
        Index("ix_human_task_assignee", "assignee_id", "state", "due_at"),
        Index("ix_human_task_completed", "completed_at"),  # the SLA report's steps of a period
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # SpiffWorkflow task UUID
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(200))
    office_code: Mapped[str] = mapped_column(ForeignKey("office.code"))
    candidate_role: Mapped[str | None] = mapped_column(String(64))
    candidate_office: Mapped[str | None] = mapped_column(String(32))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    state: Mapped[str] = mapped_column(String(16))  # open, completed, cancelled
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # What the holder saved without submitting; not validated, never task data until completed.
    draft: Mapped[dict[str, Any] | None] = mapped_column(Json, deferred=True)

    instance: Mapped[ProcessInstance] = relationship(lazy="raise")


class AuditEvent(Base):
    """Append-only record of what happened to an instance."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    kind: Mapped[str] = mapped_column(String(32))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(300))
    outcome: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any] | None] = mapped_column(Json)


class Timer(Base):
    """A waiting timer event of an instance, mirrored so the ticker never scans workflow state.

    One row per occurrence: a cycle timer gets a new row for each next due time.
    """

    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("task_id", "due_at"),
        Index("ix_timer_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))  # the SpiffWorkflow task of the timer event
    element_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    # The activity a boundary timer is attached to (a human task's id, or a sub-process task's).
    attached_to: Mapped[str | None] = mapped_column(String(36))
    interrupting: Mapped[bool] = mapped_column(default=False)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, fired, failed
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_expires_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Message(Base):
    """A message thrown by an instance to other processes, kept until delivered (never dropped)."""

    __tablename__ = "message"
    __table_args__ = (Index("ix_message_state", "state", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(Json)
    source_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, delivered, unmatched, failed
    target_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class MessageSubscription(Base):
    """An instance waiting for a message (a catch event), with the value it correlates on."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_subscription_name", "name", "correlation_value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    correlation_key: Mapped[str | None] = mapped_column(String(200))
    correlation_value: Mapped[str | None] = mapped_column(String(500))


class OutboxEmail(Base):
    """One email to one recipient, rendered when queued; `state` is pending, sent or dead."""

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_email_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(255), unique=True)
    message_id: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # task_assigned, reminder, escalation, returned
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id", ondelete="SET NULL"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)  # links start with BASE_URL_MARK
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Attachment(Base):
    """A document on a case (a budget sheet, a signed letter, terms of reference): its bytes are
    kept in the database, so backups, restores and every web host see them with the case."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_instance", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(String(36))  # the task whose form field holds it, if any
    field: Mapped[str | None] = mapped_column(String(200))  # that form field's name
    name: Mapped[str] = mapped_column(String(255))  # cleaned file name
    content_type: Mapped[str] = mapped_column(String(100))  # detected from the content
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    uploaded_at: Mapped[datetime]


class StartDraft(Base):
    """A start form saved without starting: one per user, process and office."""

    __tablename__ = "start_draft"
    __table_args__ = (UniqueConstraint("user_id", "process_id", "office_code", name="uq_start_draft"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    process_id: Mapped[str] = mapped_column(String(200))
    office_code: Mapped[str] = mapped_column(ForeignKey("office.code"))
    data: Mapped[dict[str, Any]] = mapped_column(Json)
    updated_at: Mapped[datetime]
