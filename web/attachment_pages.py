"""The documents of a case on the staff pages: the upload form's route (back to the page it was
sent from, with a message) and the download link's."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidData
from engine.work import attachments

from .downloads import as_download, attachment_limit, size_text, uploads
from .ui import language, uow

bp = Blueprint("attachments", __name__)


@bp.app_template_global("file_size")
def file_size(size: int) -> str:
    return size_text(size, language())


@bp.post("/instances/<int(max=2147483647):instance_id>/attachments")
@login_required
def upload(instance_id: int):
    chosen = uploads(request.files.getlist("file")[:1])
    if not chosen:
        raise InvalidData(_("Choose a file to attach."), {"file": _("Choose a file to attach.")})
    added = attachments.add_attachment(uow(), current_user.id, instance_id, chosen[0], max_bytes=attachment_limit())
    flash(_("“%(name)s” is attached to the case.", name=added.name), "info")
    return redirect(_back(instance_id))


@bp.get("/attachments/<int(max=2147483647):attachment_id>")
@login_required
def download(attachment_id: int):
    return as_download(attachments.read_attachment(uow(write=False), current_user.id, attachment_id))


def _back(instance_id: int) -> str:
    """The page the form was on (a path of this site only), else the case's page."""
    back = request.form.get("back") or ""
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back
    return url_for("instances.show", instance_id=instance_id)
