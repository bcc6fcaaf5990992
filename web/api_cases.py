"""The case list in the API: GET /api/v1/instances with the filters, search, sort and page of the
/cases page (engine.work.case_list). Registered on the API's blueprint, so it shares its bearer
tokens and its error bodies; a wrong parameter is a 400 naming it."""

from __future__ import annotations

from typing import Any

from flask import g, request

from engine.work import case_list
from engine.work.case_filter import parse_filter

from .api import _json, _time, _uow, bp


@bp.get("/instances")
def list_instances():
    found = case_list.case_list(_uow(write=False), g.api_user_id, parse_filter(request.args))
    body = {"instances": [case_json(row) for row in found.rows], "total": found.total}
    return _json(body | {"page": found.filter.page, "per_page": found.filter.per_page})


def case_json(row: case_list.CaseRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "reference": row.reference,
        "title": row.title,
        "process_id": row.process_id,
        "process_name": row.process_name,
        "office": row.office,
        "status": row.status,
        "sla": row.sla.value,
        "sla_breached": row.sla_breached,
        "next_due_at": _time(row.next_due_at),
        "holder": row.holder,
        "open_tasks": row.open_steps,
        "started_at": _time(row.started_at),
        "updated_at": _time(row.updated_at),
        "completed_at": _time(row.completed_at),
        "emergency_id": row.emergency_id,
    }
