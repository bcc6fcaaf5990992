"""Comments on a case and cancelling it, from the task and instance pages (web/templates/
_case_actions.html): each form posts here, the engine acts, and the browser goes back with a message."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidData
from engine.work import cancel, comments

from .ui import uow

bp = Blueprint("case", __name__)


@bp.post("/instances/<int(max=2147483647):instance_id>/comments")
@login_required
def comment(instance_id: int):
    text = request.form.get("text", "")
    if not text.strip():
        raise InvalidData(_("Write a comment first."), {"text": _("Write a comment first.")})
    comments.add_comment(uow(), current_user.id, instance_id, text)
    flash(_("Your comment is on the case's timeline."), "info")
    return redirect(_back(instance_id))


@bp.post("/instances/<int(max=2147483647):instance_id>/cancel")
@login_required
def cancel_case(instance_id: int):
    reason = request.form.get("reason", "")
    if not reason.strip():
        raise InvalidData(_("Say why the case is cancelled."), {"reason": _("Say why the case is cancelled.")})
    if request.form.get("confirm") != "yes":
        raise InvalidData(_("Tick the box to confirm the cancellation."), {"confirm": _("Tick the box.")})
    cancel.cancel_instance(uow(), current_user.id, instance_id, reason)
    flash(_("The case is cancelled: its open tasks are closed and the people concerned are told."), "info")
    return redirect(url_for("instances.show", instance_id=instance_id))


def _back(instance_id: int) -> str:
    """The page the form was on (a path of this site only), else the case's page."""
    back = request.form.get("back") or ""
    if back.startswith("/") and not back.startswith("//") and "\\" not in back:
        return back
    return url_for("instances.show", instance_id=instance_id)
