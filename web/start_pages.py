"""The start page: the processes this user may start, each with its start form."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.definitions import catalog
from engine.errors import InvalidData
from engine.work import instances
from forms.validation import localize

from . import formparse, formrender
from .ui import language, uow

bp = Blueprint("start", __name__)


@bp.get("/start")
@login_required
def index():
    return render_template("start_list.html", processes=catalog.startable(uow(write=False), current_user.id))


def _form_page(process, values, errors, office, extra_rows=None, status=200):
    lang = language()
    errors = {path: localize(message, lang) for path, message in errors.items()}
    form_html = formrender.render_form(process.form or {}, values, errors, lang, extra_rows=extra_rows or {})
    page = render_template("start_form.html", process=process, form_html=form_html, errors=errors, office=office)
    return page, status


@bp.route("/start/<process_id>", methods=["GET", "POST"])
@login_required
def form(process_id: str):
    process = catalog.get_startable(uow(write=False), current_user.id, process_id)
    office = request.values.get("office") or (process.offices[0] if len(process.offices) == 1 else "")
    if request.method == "GET":
        return _form_page(process, {}, {}, office)
    data = formparse.parse_submission(process.form or {}, request.form)
    added = formparse.added_row(request.form)
    if added:
        return _form_page(process, data, {}, office, extra_rows={added: 1})
    if office not in process.offices:
        return _form_page(process, data, {"office": _("Choose the office this is for.")}, office, status=400)
    try:
        instance = instances.start_instance(uow(), current_user.id, process_id, office, data)
    except InvalidData as refused:
        return _form_page(process, data, refused.fields, office, status=400)
    flash(_("Started: %(title)s.", title=instance.title), "info")
    mine = [t for t in instance.tasks if t.assignee_id == current_user.id]
    if mine:
        return redirect(url_for("tasks.show", task_id=mine[0].id))
    return redirect(url_for("instances.show", instance_id=instance.id))
