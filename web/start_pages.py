"""The start page: the processes this user may start, each with its start form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.definitions import catalog
from engine.errors import InvalidData
from engine.work import emergency_start, instances, start_drafts
from forms.validation import localize

from . import formparse, formrender
from .expired_forms import shown_again
from .ui import language, uow

bp = Blueprint("start", __name__)


@bp.get("/start")
@login_required
def index():
    return render_template("start_list.html", processes=catalog.startable(uow(write=False), current_user.id))


def _form_page(process, values, errors, office, extra_rows=None, status=200, saved_at=None, offered=()):
    lang = language()
    emergency = _emergency_id()
    schema = emergency_start.without_emergency_fields(process.form) if emergency else process.form
    errors = {path: localize(message, lang, process.form) for path, message in errors.items()}
    form_html = formrender.render_form(schema or {}, values, errors, lang, extra_rows=extra_rows or {})
    shown = dict(process=process, form_html=form_html, errors=errors, office=office, saved_at=saved_at)
    shown |= dict(emergencies=offered, emergency_id=emergency)
    return render_template("start_form.html", **shown), status


def _emergency_id() -> int | None:
    """The emergency the form is for (`emergency_id` in the query or the post), if one is chosen."""
    chosen = (request.values.get("emergency_id") or "").strip()
    return int(chosen) if chosen.isdigit() and len(chosen) < 10 else None


@bp.route("/start/<process_id>", methods=["GET", "POST"])
@login_required
def form(process_id: str):
    office = request.values.get("office") or ""
    if request.method == "GET":
        page = start_drafts.start_page(uow(write=False), current_user.id, process_id, office or None)
        return _form_page(page.process, page.values, {}, page.office, saved_at=page.saved_at, offered=page.emergencies)
    if request.form.get("_action") == "draft":
        return _keep_draft(process_id, office)
    process = catalog.get_startable(uow(write=False), current_user.id, process_id)
    office = office or (process.offices[0] if len(process.offices) == 1 else "")
    schema = emergency_start.without_emergency_fields(process.form) if _emergency_id() else process.form
    data = formparse.parse_submission(schema or {}, request.form)
    added = formparse.added_row(request.form)
    if added:
        return _form_page(process, data, {}, office, extra_rows={added: 1})
    if office not in process.offices:
        return _form_page(process, data, _office_missing(), office, status=400)
    return _start(process, office, data)


def _office_missing() -> dict[str, str]:
    return {"office": _("Choose the office this is for.")}


def _start(process, office: str, data: dict):
    try:
        instance = instances.start_instance(
            uow(), current_user.id, process.process_id, office, data, emergency_id=_emergency_id()
        )
    except InvalidData as refused:
        return _form_page(process, data, refused.fields, office, status=400)
    flash(_("Started: %(title)s.", title=instance.title), "info")
    mine = [t for t in instance.tasks if t.assignee_id == current_user.id]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    return redirect(url_for("instances.show", instance_id=instance.id))


def _keep_draft(process_id: str, office: str):
    """Save draft: the entries kept as they are (not checked) until the case is started."""
    read = lambda schema: formparse.parse_submission(schema or {}, request.form)  # noqa: E731
    page = start_drafts.save_start_draft(uow(), current_user.id, process_id, office, read)
    if not page.saved:
        # The office's message in the user's words; the form's own go through localize.
        errors = page.errors | (_office_missing() if "office" in page.errors else {})
        return _form_page(page.process, page.values, errors, office, status=400)
    flash(_("Draft saved. Open this form again to go on; starting the case deletes the draft."), "info")
    return redirect(url_for("start.form", process_id=process_id, office=office))


@shown_again("start.form")
def _form_again(process_id: str):
    """The start form posted with an expired token: shown again with the entries, nothing started."""
    process = catalog.get_startable(uow(write=False), current_user.id, process_id)
    office = request.form.get("office") or (process.offices[0] if len(process.offices) == 1 else "")
    return _form_page(process, formparse.parse_submission(process.form or {}, request.form), {}, office, status=400)
