"""The inbox: my tasks, my roles' claimable tasks, the instances I started; claim, release, reassign."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.work import pages, tasks

from .ui import now, uow

bp = Blueprint("inbox", __name__)
TABS = ("all", "mine", "claimable", "started")


@bp.get("/")
@login_required
def index():
    tab = request.args.get("tab", "all")
    if tab not in TABS:
        abort(404)
    filters = _filters()
    page = pages.inbox_page(
        uow(write=False),
        current_user.id,
        tab=tab,
        process_id=filters["process"] or None,
        office=filters["office"] or None,
        due_before=now() if filters["overdue"] else None,
        q=filters["q"],
        sort=filters["sort"],
    )
    kept = {name: filters[name] for name in ("process", "office", "q") if filters[name]}
    kept |= {"overdue": "1"} if filters["overdue"] else {}
    return render_template("inbox.html", filters=filters, kept=kept, **page.__dict__)


def _filters() -> dict:
    """The inbox's filters, search and sort from the query string (an unknown sort is the default)."""
    sort = request.args.get("sort") or "due"
    return {
        "process": request.args.get("process") or "",
        "office": request.args.get("office") or "",
        "overdue": request.args.get("overdue") == "1",
        "q": (request.args.get("q") or "").strip()[:200],
        "sort": sort if sort in tasks.INBOX_SORTS else "due",
    }


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
