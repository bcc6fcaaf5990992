"""Documents on a case: budget sheets, signed letters, terms of reference (kept in the database)."""

from __future__ import annotations

from sqlalchemy import select

from ..store.models import Attachment, User
from ..store.uow import Transaction
from ..views import AttachmentView


def listed(tx: Transaction, instance_id: int) -> list[AttachmentView]:
    """The attachments of an instance, oldest first (without their bytes)."""
    rows = tx.session.execute(
        select(Attachment, User.name)
        .outerjoin(User, User.id == Attachment.uploaded_by_id)
        .where(Attachment.instance_id == instance_id)
        .order_by(Attachment.id)
    ).all()
    return [AttachmentView.of(row, name) for row, name in rows]
