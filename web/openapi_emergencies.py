"""The OpenAPI description of emergencies (web/api_emergencies.py), merged into the document by
web/openapi.py."""

from __future__ import annotations

from typing import Any

from engine.work.emergencies import CRISIS_TYPES, MAX_NAME, MAX_NOTE, EmergencyStatus, Level

from .openapi_parts import TIME, _nullable, _object, _operation, _parameter, _ref

LEVEL = {"type": "string", "enum": [level.value for level in Level]}
STATUS = {"type": "string", "enum": [status.value for status in EmergencyStatus]}
NOTE = {"type": ["string", "null"], "maxLength": MAX_NOTE, "description": "Why (kept in its timeline)."}
EMERGENCY = {
    "id": {"type": "integer"},
    "reference": {"type": "string", "description": "Generated, never typed.", "examples": ["EM-HTI-2026-0001"]},
    "office": {"type": "string", "description": "The country office it is declared for."},
    "name": {"type": "string"},
    "crisis_type": {"type": "string", "enum": list(CRISIS_TYPES)},
    "level": LEVEL,
    "onset_date": {"type": "string", "format": "date"},
    "status": STATUS,
    "declared_by_id": _nullable("integer"),
    "created_at": TIME,
    "updated_at": TIME,
}
SCHEMAS: dict[str, Any] = {}
SCHEMAS["Emergency"] = _object(EMERGENCY, description="An emergency, without its cases and timeline.")
SCHEMAS["EmergencyCase"] = _object(
    {
        "id": {"type": "integer"},
        "reference": _nullable("string"),
        "title": {"type": "string"},
        "process_id": {"type": "string"},
        "process_name": {"type": "string"},
        "status": {"type": "string", "examples": ["running", "completed", "cancelled"]},
        "sla_breached": {"type": "boolean"},
        "started_at": TIME,
        "open_steps": {"type": "array", "items": {"type": "string"}, "description": "The titles of its open tasks."},
    },
    description="A case of the emergency that the caller may see.",
)
SCHEMAS["EmergencyEvent"] = _object(
    {
        "kind": {"type": "string", "enum": ["declared", "level", "closed", "reopened"]},
        "level": _nullable("string", "The level from then on."),
        "previous_level": _nullable("string", "The level before a level change."),
        "note": _nullable("string"),
        "actor_name": _nullable("string"),
        "at": TIME,
    }
)
SCHEMAS["EmergencyDetail"] = _object(
    EMERGENCY
    | {
        "cases": {"type": "array", "items": _ref("EmergencyCase"), "description": "Oldest first."},
        "events": {"type": "array", "items": _ref("EmergencyEvent"), "description": "Its timeline, oldest first."},
    },
    description="An emergency with its cases and its timeline (declared, level changes, closed, reopened).",
)
SCHEMAS["EmergencyList"] = _object({"emergencies": {"type": "array", "items": _ref("Emergency")}})
SCHEMAS["DeclareEmergency"] = _object(
    {
        "office": {"type": "string", "description": "A country office code.", "examples": ["HTI"]},
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME},
        "crisis_type": {"type": "string", "enum": list(CRISIS_TYPES)},
        "level": LEVEL,
        "onset_date": {"type": "string", "format": "date", "description": "Not after today."},
        "note": NOTE,
    },
    optional=("note",),
)
SCHEMAS["ChangeEmergency"] = _object(
    {"level": LEVEL, "status": STATUS, "note": NOTE},
    optional=("level", "status", "note"),
    description="A new level, a new status, or both; each change is an event of its timeline.",
)
EMERGENCY_ID = _parameter("emergency_id", "integer", "The emergency's id.")


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


PATHS: dict[str, Any] = {}
PATHS["/emergencies"] = {
    "get": {
        **_operation(
            "listEmergencies",
            "The emergencies of the offices the caller works for (a regional role: its region; headquarters: all), "
            "newest first.",
            ("200", "The emergencies.", _ref("EmergencyList")),
            ("400",),
        ),
        "parameters": [
            _query("office", {"type": "string"}, "An office code."),
            _query("status", STATUS, "active or closed."),
        ],
    },
    "post": _operation(
        "declareEmergency",
        "Declare an emergency for a country office: its region's Emergency Focal Point or Regional Director, or an "
        "Admin (403 for anybody else who sees the office, 404 for an office the caller does not work for).",
        ("201", "The new emergency, active.", _ref("EmergencyDetail")),
        ("400", "403", "404"),
        body="DeclareEmergency",
        body_required=True,
        headers={"Location": {"schema": {"type": "string"}, "description": "The emergency's URL."}},
    ),
}
PATHS["/emergencies/{emergency_id}"] = {
    "parameters": [EMERGENCY_ID],
    "get": _operation(
        "getEmergency",
        "An emergency with its cases (those the caller sees) and its timeline.",
        ("200", "The emergency.", _ref("EmergencyDetail")),
        ("404",),
    ),
    "patch": _operation(
        "changeEmergency",
        "Change its level or status (regional roles and Admin only: 403 otherwise; 404 for another office's).",
        ("200", "The emergency as it is now.", _ref("EmergencyDetail")),
        ("400", "403", "404"),
        body="ChangeEmergency",
        body_required=True,
    ),
}
