"""The task page: the form rendered on the server from its JSON Schema, with the instance's
context beside it (earlier answers, the diagram); complete, save a draft, claim, release."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import Conflict, InvalidData
from engine.work import instances, tasks
from forms.validation import localize

from . import formrender
from .ui import language as language_
from .ui import uow

bp = Blueprint("tasks", __name__)


def _context(task_id: str, values: dict | None = None, errors: dict | None = None, extra_rows=None, status=200):
    task = tasks.get_task(uow(write=False), current_user.id, task_id)
    instance = instances.get_instance(uow(write=False), current_user.id, task.instance_id)
    forms = instances.forms_of(uow(write=False), current_user.id, task.instance_id)
    if values is None:
        values = {**instance.data, **(task.draft or {})}
    language = language_()
    errors = {path: localize(message, language) for path, message in (errors or {}).items()}
    form_html = formrender.render_form(task.form or {}, values, errors, language, extra_rows=extra_rows or {})
    answers = [
        (event, formrender.display_answers(forms.get(event.element_id) or {}, event.data or {}, language))
        for event in instance.events
        if event.kind == "completed_task" and event.data
    ]
    mine = task.assignee_id == current_user.id
    candidates = tasks.candidates(uow(write=False), current_user.id, task_id)  # empty unless a supervisor
    page = render_template(
        "task.html",
        task=task,
        instance=instance,
        form_html=form_html,
        errors=errors or {},
        answers=answers,
        mine=mine,
        candidates=candidates,
    )
    return page, status


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str):
    return _context(task_id)


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id: str):
    task = tasks.get_task(uow(write=False), current_user.id, task_id)
    schema = task.form or {}
    data = formrender.parse_submission(schema, request.form)
    added = formrender.added_row(request.form)
    if added:
        return _context(task_id, values=data, extra_rows={added: 1})
    if request.form.get("_action") == "draft":
        tasks.save_draft(uow(), current_user.id, task_id, data)
        flash(_("Draft saved. It is yours until you complete or release the task."), "info")
        return redirect(url_for("tasks.show", task_id=task_id))
    try:
        instance = tasks.complete_task(uow(), current_user.id, task_id, data)
    except InvalidData as refused:
        return _context(task_id, values=data, errors=refused.fields, status=400)
    except Conflict as conflict:
        flash(_("Nothing was saved: %(why)s.", why=str(conflict)), "error")
        return redirect(url_for("instances.show", instance_id=task.instance_id))
    flash(_("“%(title)s” is done.", title=task.title), "info")
    mine_next = [t for t in instance.tasks if t.assignee_id == current_user.id]
    if mine_next:
        return redirect(url_for("tasks.show", task_id=mine_next[0].id))
    return redirect(url_for("inbox.index"))
