"""The OpenAPI description of the case list (web/api_cases.py), merged into the document by
web/openapi.py."""

from __future__ import annotations

from typing import Any

from engine.work.case_filter import MAX_PAGE, MAX_PER_PAGE, PER_PAGE, CaseSort, CaseStatus, SlaState
from engine.work.case_list import MAX_SEARCH_WORDS

from .openapi_parts import OPTIONAL_TIME, TIME, _nullable, _object, _operation, _ref


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _choice(kind) -> dict[str, Any]:
    return {"type": "string", "enum": [item.value for item in kind]}


FLAG = {"type": "string", "enum": ["", "0", "1", "true", "false", "on"]}
SCHEMAS: dict[str, Any] = {}
SCHEMAS["CaseRow"] = _object(
    {
        "id": {"type": "integer"},
        "reference": _nullable("string", "The case's reference, e.g. MEFM-HTI-2026-0007."),
        "title": {"type": "string"},
        "process_id": {"type": "string"},
        "process_name": {"type": "string"},
        "office": {"type": "string"},
        "status": _choice(CaseStatus),
        "sla": {
            **_choice(SlaState),
            "description": "breached: an escalation fired or an open task is past its due time; due_soon: an open "
            "task in its last quarter or last 4 hours; on_time: neither.",
        },
        "sla_breached": {"type": "boolean", "description": "An escalation fired."},
        "next_due_at": {**OPTIONAL_TIME, "description": "The soonest due time of its open tasks."},
        "holder": _nullable("string", "Who holds its soonest due open task: the assignee's name, else the role."),
        "open_tasks": {"type": "integer"},
        "started_at": TIME,
        "updated_at": TIME,
        "completed_at": OPTIONAL_TIME,
        "emergency_id": _nullable("integer"),
    },
    description="A case of the list, without its timeline or data (GET /instances/{id} has them).",
)
SCHEMAS["CaseList"] = _object(
    {
        "instances": {"type": "array", "items": _ref("CaseRow")},
        "total": {"type": "integer", "description": "How many cases match, on every page."},
        "page": {"type": "integer"},
        "per_page": {"type": "integer"},
    }
)
PARAMETERS = [
    _query(
        "q",
        {"type": "string", "maxLength": 200},
        f"Search: a case's reference, or up to {MAX_SEARCH_WORDS} words each of which starts a word of its title, "
        "reference, emergency or summary (case and accents do not matter).",
    ),
    _query("emergency", {"type": "integer", "minimum": 1}, "The emergency's id."),
    _query("process", {"type": "string"}, "A process id."),
    _query("office", {"type": "string"}, "An office code."),
    _query("status", _choice(CaseStatus), "The case's status."),
    _query("sla", _choice(SlaState), "The SLA state (see CaseRow.sla)."),
    _query("holder", {"type": "string"}, "`me`, a role's name or a user's id: who holds one of its open tasks."),
    _query("from", {"type": "string", "format": "date"}, "Started on or after this day (UTC)."),
    _query("to", {"type": "string", "format": "date"}, "Started on or before this day (UTC)."),
    _query("started_by_me", {"type": "string", "enum": ["0", "1", "true", "false"]}, "Only those the caller started."),
    _query(
        "done_by_me", {"type": "string", "enum": ["0", "1", "true", "false"]}, "Only those the caller did a task of."
    ),
    _query("sort", {**_choice(CaseSort), "default": "started"}, "due: soonest first; started, changed: newest first."),
    _query("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}, "The page, from 1."),
    _query(
        "per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": PER_PAGE}, "Cases a page."
    ),
]
PATHS: dict[str, Any] = {}
PATHS["/instances"] = {
    "get": {
        **_operation(
            "listInstances",
            "The cases the caller may see (the offices they work for, and those they started), filtered, searched, "
            "sorted and paged as the /cases page. An unknown or wrong parameter is a 400 naming it in `fields`.",
            ("200", "A page of cases and how many match.", _ref("CaseList")),
            ("400",),
        ),
        "parameters": PARAMETERS,
    }
}
