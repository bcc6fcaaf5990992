"""The OpenAPI description of the SLA report (web/api_reports.py), merged into the document by
web/openapi.py."""

from __future__ import annotations

from typing import Any

from .openapi_parts import _nullable, _object, _operation, _ref


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


SCHEMAS: dict[str, Any] = {}
SCHEMAS["SlaRow"] = _object(
    {
        "process": {"type": "string", "description": "The process id."},
        "office": {"type": "string"},
        "month": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$", "description": "The decision's month (UTC)."},
        "decided": {"type": "integer", "description": "Decided: a first outcome other than a return, or the end."},
        "within_sla": {"type": "integer", "description": "Decided with no escalation fired."},
        "breached": {"type": "integer", "description": "Decided after an escalation fired."},
        "median_hours": _nullable("number", "Median hours from the start of a case to its decision."),
        "p90_hours": _nullable("number", "90th percentile of those hours (interpolated, as percentile_cont)."),
    }
)
SCHEMAS["SlaReport"] = _object(
    {
        "rows": {"type": "array", "items": _ref("SlaRow")},
        "from": {"type": "string", "format": "date", "description": "The period read: its first day."},
        "to": {"type": "string", "format": "date", "description": "Its last day."},
    }
)
PATHS: dict[str, Any] = {}
PATHS["/reports/sla"] = {
    "get": {
        **_operation(
            "slaReport",
            "Per process, office and month of decision: the cases decided within their SLA and breached, with the "
            "median and 90th percentile hours to decision, over the offices the caller works for. For regional and "
            "headquarters roles (country roles: 403). A bad date or an unknown parameter is a 400 naming it.",
            ("200", "The report's rows.", _ref("SlaReport")),
            ("400", "403"),
        ),
        "parameters": [
            _query("process", {"type": "string"}, "A process id."),
            _query("office", {"type": "string"}, "An office code."),
            _query(
                "from",
                {"type": "string", "format": "date"},
                "Decided on or after this day (UTC); default: the first day of the month five months ago.",
            ),
            _query("to", {"type": "string", "format": "date"}, "Decided on or before this day (UTC); default: today."),
        ],
    }
}
