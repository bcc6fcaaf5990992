"""Comments on a case: whoever may see a case may comment on it, running or finished (a note after a
decision or a cancellation still belongs with the case). A comment is the audit event "commented"
with data {"text": ...}, so the timeline shows it; the people who hold the case's open tasks are
emailed, never the author (a finished case has no holders, so nobody is)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..errors import InvalidData
from ..notifications import case_emails
from ..org import offices as org
from ..runtime import audit
from ..store.models import AuditEvent, User
from ..store.uow import Transaction, UnitOfWork
from ..views import CommentView
from .instances import visible_instance

MAX_COMMENT_CHARS = 4000
KIND = "commented"


def add_comment(uow: UnitOfWork, actor_id: int, instance_id: int, text: Any) -> CommentView:
    """Put a comment on a case the actor may see (another office's case is NotFound); the text is
    trimmed, required and at most MAX_COMMENT_CHARS long (else InvalidData on `text`)."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        instance = visible_instance(tx, actor, instance_id)
        written = required_text(text, "text", MAX_COMMENT_CHARS, missing="Write a comment.")
        event = audit.record(tx, instance.id, KIND, actor_id=actor.id, data={"text": written})
        tx.session.flush()
        case_emails.queue_comment(
            tx, instance, comment_id=event.id, author_id=actor.id, author_name=actor.name, text=written
        )
        tx.commit()
        return CommentView.of(event, actor.name)


def comments_of(uow: UnitOfWork, actor_id: int, instance_id: int) -> list[CommentView]:
    """The comments on a case the actor may see, oldest first."""
    with uow as tx:
        instance = visible_instance(tx, org.load_actor(tx.session, actor_id), instance_id)
        return listed(tx, instance.id)


def listed(tx: Transaction, instance_id: int) -> list[CommentView]:
    rows = tx.session.execute(
        select(AuditEvent, User.name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.instance_id == instance_id, AuditEvent.kind == KIND)
        .order_by(AuditEvent.at, AuditEvent.id)
    ).all()
    return [CommentView.of(event, name) for event, name in rows]


def required_text(value: Any, field: str, limit: int, *, missing: str) -> str:
    """A person's text, trimmed: present, at most `limit` characters, no NUL (PostgreSQL refuses it)."""
    if value is not None and not isinstance(value, str):
        raise InvalidData(f"{field} must be text", {field: "Must be text."})
    text = (value or "").strip()
    if not text:
        raise InvalidData(f"{field} is required", {field: missing})
    if len(text) > limit:
        raise InvalidData(f"{field} is too long", {field: f"At most {limit} characters ({len(text)} given)."})
    if "\x00" in text:
        raise InvalidData(f"{field} contains a NUL character", {field: "Must not contain NUL characters."})
    return text
