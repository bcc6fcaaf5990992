"""The documents of a case in the API: upload (multipart/form-data, field `file`), list, download.
Registered on the API's blueprint, so they share its bearer tokens and its error bodies."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for

from engine.errors import InvalidData
from engine.views import AttachmentView
from engine.work import attachments

from .api import _json, _time, _uow, bp
from .downloads import as_download, attachment_limit, uploads


@bp.post("/instances/<int:instance_id>/attachments")
def upload_attachment(instance_id: int):
    chosen = uploads(request.files.getlist("file"))
    if len(chosen) != 1:
        raise InvalidData("send one file as the multipart/form-data field 'file'", {"file": "Choose one file."})
    added = attachments.add_attachment(_uow(), g.api_user_id, instance_id, chosen[0], max_bytes=attachment_limit())
    return _json(attachment_json(added), 201, {"Location": url_for(".download_attachment", attachment_id=added.id)})


@bp.get("/instances/<int:instance_id>/attachments")
def list_attachments(instance_id: int):
    found = attachments.attachments_of(_uow(write=False), g.api_user_id, instance_id)
    return _json({"attachments": [attachment_json(a) for a in found]})


@bp.get("/attachments/<int:attachment_id>")
def download_attachment(attachment_id: int):
    return as_download(attachments.read_attachment(_uow(write=False), g.api_user_id, attachment_id))


def attachment_json(a: AttachmentView) -> dict[str, Any]:
    return {
        "id": a.id,
        "instance_id": a.instance_id,
        "name": a.name,
        "size": a.size,
        "content_type": a.content_type,
        "sha256": a.sha256,
        "uploaded_by_id": a.uploaded_by_id,
        "uploaded_by_name": a.uploaded_by_name,
        "uploaded_at": _time(a.uploaded_at),
        "task_id": a.task_id,
        "field": a.field,
    }
