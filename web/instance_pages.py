"""The instance page: status, SLA clock, the audit timeline and the diagram with the path taken;
and the static files of the diagram viewer (bpmn-js, installed from npm by scripts/setup.sh)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, send_from_directory
from flask_login import current_user, login_required

from engine.work import instances, pages

from . import answers, case_view
from .downloads import file_links
from .ui import language, uow

bp = Blueprint("instances", __name__)
ROOT = Path(__file__).resolve().parents[1]
NPM = ROOT / ".venv" / "npm" / "node_modules"
BPMN_JS = NPM / "bpmn-js" / "dist"
DMN_JS = NPM / "dmn-js" / "dist"
DMN_FILES = {
    "dmn-modeler.production.min.js",
    "assets/diagram-js.css",
    "assets/dmn-js-shared.css",
    "assets/dmn-js-drd.css",
    "assets/dmn-js-decision-table.css",
    "assets/dmn-js-decision-table-controls.css",
    "assets/dmn-js-literal-expression.css",
    "assets/dmn-js-boxed-expression.css",
    "assets/dmn-js-boxed-expression-controls.css",
    "assets/dmn-font/css/dmn-embedded.css",
}
# The only vendor files served: the viewer, the modeler and their styles.
VENDOR_FILES = {
    "bpmn-navigated-viewer.production.min.js",
    "bpmn-modeler.production.min.js",
    "assets/diagram-js.css",
    "assets/bpmn-js.css",
    "assets/bpmn-font/css/bpmn-embedded.css",
}


@bp.get("/instances/<int(max=2147483647):instance_id>")
@login_required
def show(instance_id: int):
    page = pages.instance_page(uow(write=False), current_user.id, instance_id)
    lang = language()
    return render_template(
        "instance.html",
        instance=page.instance,
        summary=answers.summary_rows(page.instance.summary, lang),
        timeline=case_view.timeline(page.instance, page.forms, page.start_form, lang, file_links(page.attachments)),
        held_since=case_view.held_since,
        attachments=page.attachments,
        may_cancel=page.may_cancel,
    )


@bp.get("/instances/<int(max=2147483647):instance_id>/diagram")
@login_required
def diagram(instance_id: int):
    found = instances.diagram(uow(write=False), current_user.id, instance_id)
    return {
        "process_id": found.process_id,
        "xml": found.xml,
        "completed": found.completed,
        "active": found.active,
        "waiting": found.waiting,
    }


@bp.get("/vendor/bpmn-js/<path:name>")
def vendor(name: str):
    if name not in VENDOR_FILES:
        abort(404)
    return send_from_directory(BPMN_JS, name, max_age=86400)


@bp.get("/vendor/dmn-js/<path:name>")
def vendor_dmn(name: str):
    if name not in DMN_FILES:
        abort(404)
    return send_from_directory(DMN_JS, name, max_age=86400)
