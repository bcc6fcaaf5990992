"""Emails about a case as a whole rather than one step: a comment, told to the people who hold its
open tasks; a cancellation, told to them, to whoever started the case and to its office's Chief of
Mission. Never to the person who wrote or cancelled; each in the recipient's language, linking to
the case, once (the dedupe key names the comment, or the cancelled case)."""

from __future__ import annotations

from sqlalchemy import select

from ..org.offices import holders
from ..store.models import HumanTask, ProcessInstance, User
from ..store.uow import Transaction
from . import emails
from .policy import Audience, people

# Besides the starter and the holders, who is told that a case was cancelled, where its office has them.
CANCEL_ROLES = ("Chief of Mission",)


def current_holders(tx: Transaction, instance_id: int) -> list[User]:
    """The people who hold the case now: the assignee of each open task, or while it is unclaimed
    the holders of its role in the office where the role is held."""
    tasks = tx.session.scalars(
        select(HumanTask)
        .where(HumanTask.instance_id == instance_id, HumanTask.state == "open")
        .order_by(HumanTask.created_at, HumanTask.id)
    )
    return people(tx.session, [Audience(t.candidate_role, t.candidate_office, t.assignee_id) for t in tasks])


def queue_comment(
    tx: Transaction, instance: ProcessInstance, *, comment_id: int, author_id: int, author_name: str, text: str
) -> int:
    """Tell the case's current holders, but the author, of a comment; returns how many were queued."""
    recipients = [user for user in current_holders(tx, instance.id) if user.id != author_id]
    return emails.queue(
        tx,
        kind="commented",
        recipients=recipients,
        dedupe_key=f"comment:{comment_id}",
        instance=instance,
        task_id=None,
        task_title=None,
        context={"by": author_name, "comment": text},
    )


def queue_cancelled(
    tx: Transaction, instance: ProcessInstance, *, held_by: list[User], actor_id: int, actor_name: str, reason: str
) -> int:
    """Tell who held the case's open tasks (`held_by`, read before they closed), its starter and its
    office's Chief of Mission, but the person who cancelled it, why it was cancelled."""
    starter = tx.session.get(User, instance.started_by_id) if instance.started_by_id is not None else None
    chiefs = [user for role in CANCEL_ROLES for user in holders(tx.session, role, instance.office_code)]
    everyone = {user.id: user for user in [*held_by, *([starter] if starter is not None else []), *chiefs]}
    recipients = [user for user in everyone.values() if user.active and user.id != actor_id]
    return emails.queue(
        tx,
        kind="cancelled",
        recipients=recipients,
        dedupe_key=f"cancelled:{instance.id}",
        instance=instance,
        task_id=None,
        task_title=None,
        context={"by": actor_name, "reason": reason},
    )
