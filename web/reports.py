"""The SLA and operations report (/reports) for regional and headquarters roles: the filter form
(GET, no JavaScript needed), each chart as an SVG image with its table beside it, and what stands
now (engine.work.reports). Country roles get a 403, as the engine says."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from engine.work import reports
from engine.work.report_filter import parse_report_filter

from . import report_charts
from .ui import uow

bp = Blueprint("reports", __name__)


@bp.get("/reports")
@login_required
def index():
    found = reports.sla_report(uow(write=False), current_user.id, parse_report_filter(request.args))
    return render_template("reports.html", found=found, charts=report_charts.CHARTS, title_of=report_charts.title_of)


@bp.get("/reports/charts/<name>.svg")
@login_required
def chart(name: str):
    if name not in report_charts.CHARTS:
        abort(404)
    found = reports.sla_report(uow(write=False), current_user.id, parse_report_filter(request.args))
    return report_charts.chart_svg(name, found)


@bp.get("/reports/heat/<process_id>")
@login_required
def heat(process_id: str):
    """The diagram's heat overlay: per element, steps done in the period and their median hours."""
    wanted = parse_report_filter(request.args)
    found = reports.step_heat(uow(write=False), current_user.id, process_id, wanted)
    return {"steps": {s.element_id: {"done": s.done, "median_hours": s.median_hours} for s in found}}


@bp.app_context_processor
def _report_link() -> dict:
    """Whether the header offers the report: to the roles that may read it."""

    def reads_reports() -> bool:
        held = getattr(current_user, "memberships", ())
        return any(role in reports.REPORT_ROLES for role, _ in held)

    return {"reads_reports": reads_reports}
