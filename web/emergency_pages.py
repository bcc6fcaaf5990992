"""Emergencies in the browser: /emergencies (those of the offices the user works for, with the form
to declare one for who may) and /emergencies/<id> (its facts, level history, timeline and cases by
process, with the forms to change its level and to close or reopen it for the regional roles)."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from engine.errors import InvalidData
from engine.work import emergencies
from engine.work.emergencies import CRISIS_TYPES, EmergencyStatus, Level

from .ui import language, uow

bp = Blueprint("emergencies", __name__)
# The start forms' own words for crisis types and levels, in English and Spanish.
_FORM = json.loads((Path(__file__).resolve().parents[1] / "forms" / "mefm_request_start.json").read_text("utf-8"))
CRISIS_LABELS = _FORM["properties"]["crisis_type"]["x-enum-labels"]
LEVEL_LABELS = _FORM["properties"]["emergency_level"]["x-enum-labels"]
DECLARED = ("office", "name", "crisis_type", "level", "onset_date", "note")


@bp.get("/emergencies")
@login_required
def index():
    office, status = request.args.get("office") or None, request.args.get("status") or None
    found = emergencies.emergency_list(uow(write=False), current_user.id, office=office, status=status)
    entries = {name: request.args.get(f"new_{name}", "") for name in DECLARED}
    return render_template("emergencies.html", found=found, entries=entries, office=office, status=status, **_words())


@bp.post("/emergencies")
@login_required
def declare():
    entries = {name: request.form.get(name, "") for name in DECLARED}
    facts = {name: entries[name] for name in DECLARED if name != "office"}
    try:
        made = emergencies.declare_emergency(uow(), current_user.id, entries["office"], **facts)
    except InvalidData as refused:
        _flash_fields(refused)
        return redirect(url_for(".index", **{f"new_{name}": value for name, value in entries.items()}))
    flash(_("Declared: %(reference)s %(name)s.", reference=made.reference, name=made.name), "info")
    return redirect(url_for(".show", emergency_id=made.id))


@bp.get("/emergencies/<int(max=2147483647):emergency_id>")
@login_required
def show(emergency_id: int):
    found = emergencies.get_emergency(uow(write=False), current_user.id, emergency_id)
    return render_template("emergency.html", emergency=found, **_words())


@bp.post("/emergencies/<int(max=2147483647):emergency_id>")
@login_required
def change(emergency_id: int):
    level, status = request.form.get("level") or None, request.form.get("status") or None
    note = request.form.get("note") or None
    try:
        emergencies.change_emergency(uow(), current_user.id, emergency_id, level=level, status=status, note=note)
    except InvalidData as refused:
        _flash_fields(refused)
    else:
        flash(_("The emergency is changed; its timeline keeps the change."), "info")
    return redirect(url_for(".show", emergency_id=emergency_id))


def _flash_fields(refused: InvalidData) -> None:
    labels = {"office": _("Office"), "name": _("Name"), "crisis_type": _("Type of crisis"), "level": _("Level")}
    labels |= {"onset_date": _("Onset date"), "note": _("Note"), "status": _("Status")}
    for name, message in (refused.fields or {"": str(refused)}).items():
        flash(f"{labels.get(name, name)}: {message}" if name else message, "error")


def _words() -> dict:
    lang = language()
    return {
        "crisis_types": [(c, CRISIS_LABELS.get(lang, CRISIS_LABELS["en"]).get(c, c)) for c in CRISIS_TYPES],
        "levels": [(v.value, LEVEL_LABELS.get(lang, LEVEL_LABELS["en"])[v.value]) for v in Level],
        "crisis_label": lambda c: CRISIS_LABELS.get(lang, CRISIS_LABELS["en"]).get(c, c),
        "status_label": lambda s: {"active": _("Active"), "closed": _("Closed")}.get(s, s),
        "statuses": [s.value for s in EmergencyStatus],
    }
