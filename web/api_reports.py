"""The SLA report in the API: GET /api/v1/reports/sla, the rows of /reports per process, office and
month (engine.work.reports). Registered on the API's blueprint, so it shares its bearer tokens and
its error bodies: a bad date is a 400 naming it, a country role a 403."""

from __future__ import annotations

from typing import Any

from flask import g, request

from engine.work import reports
from engine.work.report_filter import parse_report_filter

from .api import _json, _uow, bp


@bp.get("/reports/sla")
def sla_report():
    period, rows = reports.sla_rows(_uow(write=False), g.api_user_id, parse_report_filter(request.args))
    body = {"rows": [row_json(row) for row in rows], "from": period.date_from.isoformat()}
    return _json(body | {"to": period.date_to.isoformat()})


def row_json(row: reports.SlaRow) -> dict[str, Any]:
    return {
        "process": row.process_id,
        "office": row.office,
        "month": row.month,
        "decided": row.decided,
        "within_sla": row.within_sla,
        "breached": row.breached,
        "median_hours": row.median_hours,
        "p90_hours": row.p90_hours,
    }
