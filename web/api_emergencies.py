"""Emergencies in the API: declared (POST), listed (GET, scoped, by office and status), read with
their cases and timeline (GET one), their level and status changed (PATCH, regional roles only).
Registered on the API's blueprint, so they share its bearer tokens and its error bodies."""

from __future__ import annotations

from typing import Any

from flask import g, request, url_for

from engine.work import emergencies
from engine.work.emergencies import EmergencyView

from .api import _body, _json, _time, _uow, bp

DECLARE_FIELDS = {"office", "name", "crisis_type", "level", "onset_date"}


@bp.post("/emergencies")
def declare_emergency():
    body = _body(required=DECLARE_FIELDS, allowed=DECLARE_FIELDS | {"note"})
    facts = {name: body[name] for name in DECLARE_FIELDS - {"office"}}
    made = emergencies.declare_emergency(_uow(), g.api_user_id, body["office"], **facts, note=body.get("note"))
    location = url_for(".show_emergency", emergency_id=made.id)
    return _json(emergency_json(made, with_cases=True), 201, {"Location": location})


@bp.get("/emergencies")
def list_emergencies():
    office, status = request.args.get("office") or None, request.args.get("status") or None
    found = emergencies.emergency_list(_uow(write=False), g.api_user_id, office=office, status=status)
    return _json({"emergencies": [emergency_json(e) for e in found.emergencies]})


@bp.get("/emergencies/<int:emergency_id>")
def show_emergency(emergency_id: int):
    found = emergencies.get_emergency(_uow(write=False), g.api_user_id, emergency_id)
    return _json(emergency_json(found, with_cases=True))


@bp.patch("/emergencies/<int:emergency_id>")
def change_emergency(emergency_id: int):
    body = _body(required=set(), allowed={"level", "status", "note"})
    changes = {name: body.get(name) for name in ("level", "status", "note")}
    return _json(emergency_json(emergencies.change_emergency(_uow(), g.api_user_id, emergency_id, **changes), True))


def emergency_json(e: EmergencyView, with_cases: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": e.id,
        "reference": e.reference,
        "office": e.office,
        "name": e.name,
        "crisis_type": e.crisis_type,
        "level": e.level,
        "onset_date": e.onset_date.isoformat(),
        "status": e.status,
        "declared_by_id": e.declared_by_id,
        "created_at": _time(e.created_at),
        "updated_at": _time(e.updated_at),
    }
    if with_cases:
        body["cases"] = [
            {
                "id": c.id,
                "reference": c.reference,
                "title": c.title,
                "process_id": c.process_id,
                "process_name": c.process_name,
                "status": c.status,
                "sla_breached": c.sla_breached,
                "started_at": _time(c.started_at),
                "open_steps": list(c.open_steps),
            }
            for c in e.cases
        ]
        body["events"] = [
            {
                "kind": v.kind,
                "level": v.level,
                "previous_level": v.previous_level,
                "note": v.note,
                "actor_name": v.actor_name,
                "at": _time(v.at),
            }
            for v in e.events
        ]
    return body
