"""The process managers' side: the BPMN modeler in the browser (bpmn-js from npm), drafts saved and
validated on the server, the forms beside the diagram, dry runs, publishing, versions and diffs.
Every route is for the role Process Manager (the engine refuses anyone else: 403)."""

from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidData, InvalidDiagram
from engine.modeling import drafts, pages
from forms.validation import check_schema

from . import formrender
from .ui import language, uow, when

bp = Blueprint("modeler", __name__, url_prefix="/modeler")


def _back_to_index(refused: InvalidData):
    flash("; ".join(refused.fields.values()) or str(refused), "error")
    return redirect(url_for("modeler.index"))


def _problems_json(draft: drafts.DraftView) -> dict:
    return {"revision": draft.revision, "problems": draft.problems, "errors": len(draft.errors)}


@bp.get("/")
@login_required
def index():
    page = pages.modeler_index(uow(write=False), current_user.id)
    published = [(p.process_id, p.name, p.version, p.published_at) for p in page.published]
    return render_template("modeler_index.html", drafts=page.drafts, published=published)


@bp.post("/drafts")
@login_required
def new_draft():
    try:
        draft = drafts.open_draft(
            uow(), current_user.id, request.form.get("process_id", "").strip(), name=request.form.get("name")
        )
    except InvalidData as refused:
        return _back_to_index(refused)
    return redirect(url_for("modeler.edit", draft_id=draft.id))


@bp.post("/upload")
@login_required
def upload():
    sent = request.files.get("file")
    if sent is None or not sent.filename:
        drafts.require_manager_id(uow(write=False), current_user.id)  # a stranger learns nothing more
        flash(_("Choose a .bpmn file to upload."), "error")
        return redirect(url_for("modeler.index"))
    content = sent.stream.read(drafts.MAX_FILE_BYTES + 1)
    try:
        draft = drafts.import_diagram(uow(), current_user.id, sent.filename, content)
    except InvalidData as refused:
        return _back_to_index(refused)
    return redirect(url_for("modeler.edit", draft_id=draft.id))


@bp.get("/drafts/<int(max=2147483647):draft_id>")
@login_required
def edit(draft_id: int):
    draft = drafts.get_draft(uow(write=False), current_user.id, draft_id)
    return render_template("modeler_edit.html", draft=draft)


@bp.get("/drafts/<int(max=2147483647):draft_id>/files/<path:name>")
@login_required
def file(draft_id: int, name: str):
    draft = drafts.get_draft(uow(write=False), current_user.id, draft_id)
    if name not in draft.files:
        abort(404)
    return {"name": name, "text": draft.files[name], "revision": draft.revision, "problems": draft.problems}


@bp.post("/drafts/<int(max=2147483647):draft_id>/files")
@login_required
def save(draft_id: int):
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    revision = body.get("revision") if isinstance(body.get("revision"), int) else None
    draft = drafts.save(uow(), current_user.id, draft_id, body.get("files"), revision=revision)
    return _problems_json(draft)


@bp.route("/drafts/<int(max=2147483647):draft_id>/forms/<key>", methods=["GET", "POST"])
@login_required
def form(draft_id: int, key: str):
    """The JSON Schema of a form, edited as text, with the form rendered from it as staff will see it."""
    draft = drafts.get_draft(uow(write=False), current_user.id, draft_id)
    name = f"{drafts.FORMS_PREFIX}{key}.json"
    text = request.form.get("schema") if request.method == "POST" else draft.files.get(name, "{}")
    preview, problem = _preview(text)
    if request.method == "POST" and request.form.get("_action") == "save":
        draft = drafts.save(uow(), current_user.id, draft_id, {name: text})
        flash(_("Form saved."), "info")
    return render_template("modeler_form.html", draft=draft, key=key, text=text, preview=preview, problem=problem)


@bp.post("/preview")
@login_required
def preview():
    """The live preview of a form's JSON Schema (the editor page posts it as the manager types)."""
    drafts.require_manager_id(uow(write=False), current_user.id)
    html, problem = _preview(request.get_data(as_text=True))
    return {"html": str(html), "problem": problem}


def _preview(text: str):
    try:
        schema = json.loads(text or "{}")
    except ValueError as error:
        return "", f"Not JSON: {error}"
    why = check_schema(schema)
    if why:
        return "", why
    return formrender.render_form(schema, {}, {}, language()), None


@bp.get("/drafts/<int(max=2147483647):draft_id>/decisions/<name>")
@login_required
def decision(draft_id: int, name: str):
    """A DMN file of the draft in dmn-js (the decision table editor), saved like the diagram."""
    draft = drafts.get_draft(uow(write=False), current_user.id, draft_id)
    if name not in draft.decision_files:
        abort(404)
    return render_template("modeler_decision.html", draft=draft, name=name)


@bp.post("/drafts/<int(max=2147483647):draft_id>/publish")
@login_required
def publish(draft_id: int):
    try:
        published = drafts.publish(uow(), current_user.id, draft_id)
    except InvalidData as refused:
        flash(_("Not published: %(why)s", why="; ".join(refused.fields.values()) or str(refused)), "error")
        return redirect(url_for("modeler.edit", draft_id=draft_id))
    flash(_("Published as version %(n)s.", n=published.version), "info")
    return redirect(url_for("modeler.versions", process_id=published.process_id))


@bp.get("/processes/<process_id>/versions")
@login_required
def versions(process_id: str):
    rows = drafts.versions(uow(write=False), current_user.id, process_id)
    return render_template("modeler_versions.html", process_id=process_id, rows=rows)


@bp.post("/drafts/<int(max=2147483647):draft_id>/dryrun")
@login_required
def dry_run(draft_id: int):
    """Run the draft in memory with sample data: what happens, who gets which task, which emails."""
    body = request.get_json(silent=True) or {}
    steps = [s for s in body.get("steps", []) if isinstance(s, str)][:50] or None
    start_data = body.get("start_data") if isinstance(body.get("start_data"), dict) else None
    try:
        run = pages.try_draft(uow(write=False), current_user.id, draft_id, steps=steps, start_data=start_data)
    except InvalidDiagram as refused:
        return {"error": _("Fix the errors first: %(n)s", n=len(refused.problems)), "fields": {}}, 400
    except ValueError as error:
        return {"error": str(error), "fields": {}}, 400
    return {"events": _dry_events(run), "ended": run.ended, "open_tasks": list(run.open_tasks)}


def _dry_events(run) -> list[dict]:
    events = []
    for task in run.tasks:
        where = f"{task.lane} ({task.office})" if task.lane else _("the starter")
        due = f", due {when(task.due_at, 'short')}" if task.due_at else ""
        events.append({"at": task.opened_at, "kind": "task", "text": f"{task.name} → {where}{due}"})
    for timer in run.timers:
        kind = _("escalation") if timer.interrupting else _("reminder")
        events.append({"at": timer.at, "kind": "timer", "text": f"{kind}: {timer.name or timer.element_id}"})
    for email in run.emails:
        to = ", ".join(f"{role} ({office})" if office else role for role, office in email.to_roles)
        events.append({"at": email.at, "kind": "email", "text": f"email {email.kind} to {to}"})
    for message in run.messages:
        events.append({"at": message.at, "kind": "message", "text": f"message {message.name}"})
    for problem in run.problems:
        events.append({"at": run.finished_at, "kind": "problem", "text": f"{problem.element_id}: {problem.message}"})
    events.sort(key=lambda e: e["at"])
    return [{**e, "at": when(e["at"], "short")} for e in events]


@bp.get("/processes/<process_id>/versions/<int(max=2147483647):version>/diagram")
@login_required
def version_diagram(process_id: str, version: int):
    files = drafts.version_files(uow(write=False), current_user.id, process_id, version)
    return {"xml": files[drafts.main_diagram(files, process_id)]}


@bp.get("/processes/<process_id>/diff")
@login_required
def diff(process_id: str):
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if not a or not b:
        abort(404)
    changes = _changes(pages.version_diff(uow(write=False), current_user.id, process_id, a, b))
    return render_template(
        "modeler_diff.html",
        process_id=process_id,
        a=a,
        b=b,
        changes=changes,
        changed_ids=[c["element"] for c in changes if c["kind"] == "changed" and c["element"]],
        added_ids=[c["element"] for c in changes if c["kind"] == "added" and c["element"]],
    )


def _changes(result) -> list[dict]:
    """The diff as rows: what changed, where, in words."""
    rows = []
    for element in result.added:
        rows.append(
            {
                "kind": "added",
                "element": element.element_id,
                "where": element.element_id,
                "text": f"{element.type} {element.name or ''}".strip(),
            }
        )
    for element in result.removed:
        rows.append(
            {
                "kind": "removed",
                "element": None,
                "where": element.element_id,
                "text": f"{element.type} {element.name or ''}".strip(),
            }
        )
    for changed in result.changed:
        for change in changed.changes:
            rows.append(
                {
                    "kind": "changed",
                    "element": changed.element.element_id,
                    "where": changed.element.element_id,
                    "text": change.description,
                }
            )
    for form in result.forms:
        for text in form.changes or (form.status,):
            rows.append({"kind": form.status, "element": None, "where": f"form {form.key}", "text": text})
    for decision in result.decisions:
        for text in decision.changes or (decision.status,):
            rows.append(
                {"kind": decision.status, "element": None, "where": f"table {decision.decision_id}", "text": text}
            )
    return rows
