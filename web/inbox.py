"""The inbox: my tasks, my roles' claimable tasks, the instances I started; claim, release, reassign."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.definitions import versions as definitions
from engine.work import instances, tasks

from .ui import now, uow

bp = Blueprint("inbox", __name__)
TABS = ("all", "mine", "claimable", "started")


@bp.get("/")
@login_required
def index():
    tab = request.args.get("tab", "all")
    if tab not in TABS:
        abort(404)
    process_id = request.args.get("process") or None
    office = request.args.get("office") or None
    overdue = request.args.get("overdue") == "1"
    rows, started = [], []
    if tab == "started":
        started = instances.started_by(uow(write=False), current_user.id)
    else:
        rows = tasks.inbox(
            uow(write=False),
            current_user.id,
            which=tab,
            process_id=process_id,
            office=office,
            due_before=now() if overdue else None,
        )
    with uow(write=False) as reading:
        processes = {v.process_id: v.name for v in definitions.latest_versions(reading)}
    return render_template(
        "inbox.html",
        tab=tab,
        rows=rows,
        started=started,
        processes=processes,
        offices=sorted({office for _, office in current_user.memberships} | {t.office for t in rows}),
        filters={"process": process_id or "", "office": office or "", "overdue": overdue},
    )


def _back(task_id: str):
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("tasks.show", task_id=task_id))


@bp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str):
    tasks.claim_task(uow(), current_user.id, task_id)
    flash(_("The task is yours now."), "info")
    return _back(task_id)


@bp.post("/tasks/<task_id>/release")
@login_required
def release(task_id: str):
    tasks.release_task(uow(), current_user.id, task_id)
    flash(_("You released the task: anyone with its role can take it."), "info")
    return redirect(url_for("inbox.index"))


@bp.post("/tasks/<task_id>/reassign")
@login_required
def reassign(task_id: str):
    to = request.form.get("assignee", "")
    if not to.isdigit():
        flash(_("Choose the person to give the task to."), "error")
        return _back(task_id)
    task = tasks.reassign_task(uow(), current_user.id, task_id, int(to))
    flash(_("The task now belongs to %(name)s.", name=task.assignee_name), "info")
    return _back(task_id)
