"""The task page: the form rendered on the server from its JSON Schema, with the instance's
context beside it (earlier answers, the diagram); complete, save a draft, claim, release."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.work import attachments, pages
from forms.validation import localize

from . import answers, case_view, downloads, formparse, formrender, formschema
from .expired_forms import shown_again
from .ui import language, uow

bp = Blueprint("tasks", __name__)


def _render(page: pages.TaskPage, values: dict | None = None, errors: dict | None = None, extra_rows=None, status=200):
    lang = language()
    form = page.task.form or {}
    if values is None:
        values = {**page.instance.data, **(page.task.draft or {})}
    else:  # a submission shown again: the read-only fields come from the case, as before it
        shown = [name for name, spec in (form.get("properties") or {}).items() if spec.get("x-readonly")]
        values = {**values, **{name: page.instance.data[name] for name in shown if name in page.instance.data}}
    errors = {path: localize(message, lang, form) for path, message in (errors or {}).items()}
    files = downloads.file_links(page.attachments)
    form_html = formrender.render_form(form, values, errors, lang, extra_rows or {}, files, page.instance.data)
    return render_template("task.html", form_html=form_html, errors=errors, **_context(page, lang)), status


def _context(page: pages.TaskPage, lang: str) -> dict:
    returned, files = page.returned, downloads.file_links(page.attachments)
    sent_back = returned and answers.display_answers(
        page.forms.get(returned.element_id) or {}, returned.data, lang, files
    )
    return dict(
        task=page.task,
        instance=page.instance,
        mine=page.mine,
        may_act=page.may_act,
        candidates=page.candidates,
        attachments=page.attachments,
        may_cancel=page.may_cancel,
        summary=answers.summary_rows(page.instance.summary, lang),
        answers=case_view.earlier_answers(page.instance, page.forms, page.start_form, lang, files),
        posts_files=bool(attachments.file_fields(page.task.form)),
        asks=formschema.description(page.task.form or {}, lang),
        returned=returned,
        returned_answers=sent_back,
    )


def _refused(done: pages.Submission):
    """A race lost (somebody acted first, or the actor may no longer act): the page as it is now,
    with why and the entries that were not saved."""
    page, lang = done.refused, language()
    why = _("Nothing was saved: %(why)s.", why=done.conflict or done.denied)
    files = downloads.file_links(page.attachments)
    kept = answers.display_answers(page.task.form or {}, done.values, lang, files)
    form_html = formrender.render_form(page.task.form or {}, done.values, {}, lang, files=files)
    context = _context(page, lang) | {"refusal": why, "kept": kept if not page.may_act else None}
    return render_template("task.html", form_html=form_html, errors={}, **context), 409 if done.conflict else 403


@bp.get("/tasks/<task_id>")
@login_required
def show(task_id: str):
    return _render(pages.task_page(uow(write=False), current_user.id, task_id))


@bp.post("/tasks/<task_id>")
@login_required
def submit(task_id: str):
    added = formparse.added_row(request.form)
    if added:
        return _with_a_line(task_id, added)
    draft = request.form.get("_action") == "draft"
    chosen = downloads.form_uploads()
    read = lambda schema: formparse.parse_submission(schema, request.form, chosen)  # noqa: E731
    done = pages.submit_task(uow(), current_user.id, task_id, read, draft=draft, max_bytes=downloads.attachment_limit())
    if done.refused is not None and chosen:
        flash(_("The files you chose were not saved with the refused form: choose them again."), "error")
    if done.conflict is not None or done.denied is not None:
        return _refused(done)
    if done.refused is not None:
        return _render(done.refused, done.values, done.errors, status=400)
    return redirect(_next(done))


def _with_a_line(task_id: str, group: str):
    """ "Add a line" without JavaScript: the same page with one more row, nothing saved. A browser
    cannot be given back the files chosen in the form, so it says so rather than drop them unsaid."""
    page = pages.task_page(uow(write=False), current_user.id, task_id)
    if downloads.form_uploads():
        flash(_("The files you chose were not kept when the line was added: choose them again."), "error")
    return _render(page, formparse.parse_submission(page.task.form or {}, request.form), extra_rows={group: 1})


def _next(done: pages.Submission) -> str:
    """Where a submission leads, with the message that says what happened."""
    if done.draft is not None:
        flash(_("Draft saved. It is yours until you complete or release the task."), "info")
        return url_for("tasks.show", task_id=done.task_id)
    flash(_("“%(title)s” is done.", title=done.title), "info")
    mine_next = [t for t in done.completed.tasks if t.assignee_id == current_user.id]
    return url_for("tasks.show", task_id=mine_next[0].id) if mine_next else url_for("inbox.index")


@shown_again("tasks.submit")
def _submit_again(task_id: str):
    """The task form posted with an expired token: shown again with the entries, nothing saved."""
    page = pages.task_page(uow(write=False), current_user.id, task_id)
    return _render(page, formparse.parse_submission(page.task.form or {}, request.form), status=400)
