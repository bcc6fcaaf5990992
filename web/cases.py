"""The case list (/cases): every case the user may see, with the filter form (GET, no JavaScript
needed), paging and counts, and the filtered list exported as CSV or XLSX (engine.work.case_list)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from engine.work import case_list
from engine.work.case_filter import CaseSort, CaseStatus, SlaState, parse_filter

from . import case_exports
from .ui import uow

bp = Blueprint("cases", __name__)


@bp.get("/cases")
@login_required
def index():
    found = case_list.case_list(uow(write=False), current_user.id, parse_filter(request.args))
    return render_template(
        "cases.html",
        found=found,
        statuses=list(CaseStatus),
        slas=list(SlaState),
        sorts=list(CaseSort),
        status_label=case_exports.status_label,
        sla_label=case_exports.sla_label,
        export_cap=case_list.EXPORT_MAX_ROWS,
    )


@bp.get("/cases/export.csv")
@login_required
def export_csv():
    found = case_list.case_export(uow(write=False), current_user.id, parse_filter(request.args))
    return case_exports.as_csv(found, _link)


@bp.get("/cases/export.xlsx")
@login_required
def export_xlsx():
    found = case_list.case_export(uow(write=False), current_user.id, parse_filter(request.args))
    return case_exports.as_xlsx(found, _link)


def _link(instance_id: int) -> str:
    """The case's page at DOEFLOW_BASE_URL, as emails link to it."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for("instances.show", instance_id=instance_id)
