"""Documents on a case: budget sheets, signed letters, terms of reference. Their bytes are kept in
the database (`Attachment.content`, deferred), so a backup holds them with the case and every web
host serves them. Whoever may see a case may list, read and add its documents, unless it is
cancelled; a file in a task form's `x-widget: file` field is stored the same way, linked to the
task and the field, in the unit of work that completes the task."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ..errors import InvalidData, NotFound, PermissionDenied, TooLarge
from ..org import offices as org
from ..runtime import audit
from ..store.models import Attachment, HumanTask, ProcessInstance, User
from ..store.uow import Transaction, UnitOfWork
from ..views import AttachmentView
from .instances import visible_instance
from .uploads import Upload, clean_name, detect_type, digest

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
FILE_WIDGET = "file"


@dataclass(frozen=True)
class Download:
    """An attachment with its bytes."""

    attachment: AttachmentView
    content: bytes


def add_attachment(
    uow: UnitOfWork, actor_id: int, instance_id: int, upload: Upload, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> AttachmentView:
    """Attach a file to a case the actor may see (not a cancelled one); recorded as "attached"."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        visible_instance(tx, actor, instance_id)
        instance = tx.session.scalar(  # locked and read again: a cancel at the same time waits, or wins
            select(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .with_for_update(of=ProcessInstance)
            .execution_options(populate_existing=True)
        )
        view = store(tx, actor, instance, upload, max_bytes=max_bytes)
        tx.commit()
        return view


def attachments_of(uow: UnitOfWork, actor_id: int, instance_id: int) -> list[AttachmentView]:
    with uow as tx:
        instance = visible_instance(tx, org.load_actor(tx.session, actor_id), instance_id)
        return listed(tx, instance.id)


def read_attachment(uow: UnitOfWork, actor_id: int, attachment_id: int) -> Download:
    """An attachment and its bytes, if the actor may see its case (else NotFound, as if none)."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        row = tx.session.get(Attachment, attachment_id)
        if row is None:
            raise NotFound(f"no attachment {attachment_id}")
        try:
            visible_instance(tx, actor, row.instance_id)
        except NotFound:
            raise NotFound(f"no attachment {attachment_id}") from None
        return Download(_view(tx, row), row.content)


def listed(tx: Transaction, instance_id: int) -> list[AttachmentView]:
    """The attachments of an instance, oldest first (without their bytes)."""
    rows = tx.session.execute(
        select(Attachment, User.name)
        .outerjoin(User, User.id == Attachment.uploaded_by_id)
        .where(Attachment.instance_id == instance_id)
        .order_by(Attachment.id)
    ).all()
    return [AttachmentView.of(row, name) for row, name in rows]


def may_attach(instance: ProcessInstance) -> bool:
    """Whether documents may still be added: to any case but a cancelled one (who may see it may add)."""
    return instance.status != "cancelled"


def store(
    tx: Transaction,
    actor: org.Actor,
    instance: ProcessInstance,
    upload: Upload,
    *,
    max_bytes: int,
    task: HumanTask | None = None,
    field: str | None = None,
) -> AttachmentView:
    """Keep one file on the case: checked against the limit, its name cleaned, its type read from
    its bytes, its sha256 taken; the timeline records it."""
    if not may_attach(instance):
        raise PermissionDenied("the case is cancelled: nothing more can be attached")
    where = field or "file"
    if len(upload.content) > max_bytes:
        raise TooLarge(
            f"the file is larger than the limit of {max_bytes} bytes",
            {where: f"The file is larger than the limit of {max_bytes} bytes."},
            limit=max_bytes,
        )
    if not upload.content:
        raise InvalidData("the file is empty", {where: "The file is empty."})
    content_type = detect_type(upload.content, upload.name)
    row = Attachment(
        instance_id=instance.id,
        task_id=task.id if task else None,
        field=field,
        name=clean_name(upload.name, content_type),
        content_type=content_type,
        size=len(upload.content),
        sha256=digest(upload.content),
        content=upload.content,
        uploaded_by_id=actor.id,
        uploaded_at=tx.now(),
    )
    tx.session.add(row)
    tx.session.flush()
    data = {"attachment_id": row.id, "name": row.name, "size": row.size}
    audit.record(tx, instance.id, "attached", actor_id=actor.id, task=task, data=data)
    return AttachmentView.of(row, actor.name)


def file_fields(form: Mapping | None) -> list[str]:
    """The top-level fields of a form shown as a file input (`x-widget: file`)."""
    properties = (form or {}).get("properties") or {}
    return [n for n, s in properties.items() if isinstance(s, Mapping) and s.get("x-widget") == FILE_WIDGET]


def store_form_files(
    tx: Transaction, actor: org.Actor, task: HumanTask, form: Mapping | None, values: dict[str, Any], *, max_bytes: int
) -> dict[str, Any]:
    """The submitted values with each file of a file field stored as an attachment of the task's
    case (linked to the task and the field) and replaced by its id; ids already there are kept."""
    fields = file_fields(form)
    if not any(isinstance(v, Upload) for name in fields for v in _items(values.get(name))):
        return values
    instance = tx.session.get(ProcessInstance, task.instance_id)
    out = dict(values)
    for name in fields:
        items = _items(values.get(name))
        out[name] = [
            store(tx, actor, instance, v, max_bytes=max_bytes, task=task, field=name).id if isinstance(v, Upload) else v
            for v in items
        ]
    return out


def without_uploads(values: dict[str, Any]) -> dict[str, Any]:
    """The values as they are once a refused submission is rolled back: the files sent are gone."""
    return {
        name: [v for v in value if not isinstance(v, Upload)] if isinstance(value, list) else value
        for name, value in values.items()
        if not isinstance(value, Upload)
    }


def link_form_files(tx: Transaction, task: HumanTask, form: Mapping | None, data: Mapping[str, Any]) -> dict[str, str]:
    """Tie the attachments a task's file fields name to the task and the field; the per-field
    errors of ids that are no document of this case (or belong to another task's field)."""
    errors: dict[str, str] = {}
    for name in file_fields(form):
        ids = [v for v in _items(data.get(name)) if isinstance(v, int) and not isinstance(v, bool)]
        rows = {r.id: r for r in tx.session.scalars(select(Attachment).where(Attachment.id.in_(ids)))} if ids else {}
        for i, attachment_id in enumerate(ids):
            row = rows.get(attachment_id)
            if row is None or row.instance_id != task.instance_id or row.task_id not in (None, task.id):
                errors[f"{name}.{i}"] = "Not a document of this case."
            elif row.task_id is None:
                row.task_id, row.field = task.id, name
    return errors


def _items(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _view(tx: Transaction, row: Attachment) -> AttachmentView:
    uploader = tx.session.get(User, row.uploaded_by_id) if row.uploaded_by_id else None
    return AttachmentView.of(row, uploader.name if uploader else None)
