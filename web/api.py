"""The JSON API v1 (DESIGN section 5, described by /api/v1/openapi.json): bearer tokens, one engine
call per request, engine errors turned into HTTP statuses in one place, every error as
`{"error": message, "fields": {field: message}}`."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, current_app, g, request, url_for

from engine.clock import SYSTEM_CLOCK
from engine.definitions import catalog
from engine.definitions.catalog import StartableProcess
from engine.errors import InvalidData
from engine.org import users
from engine.store.uow import UnitOfWork
from engine.views import EventView, InstanceView, TaskView
from engine.work import instances, tasks
from forms.validation import unsafe_values

from . import answers, database, jsonbody, openapi
from .ui import language

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)

PUBLIC_ENDPOINTS = {"api.openapi_document"}
MAX_ID = 2**31 - 1  # ids are INTEGER columns (32 bits on PostgreSQL)


# --- the routes ----------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    return _json(openapi.document())


@bp.get("/processes")
def list_processes():
    found = catalog.startable(_uow(write=False), g.api_user_id)
    return _json({"processes": [_process(p) for p in found]})


@bp.get("/processes/<process_id>")
def show_process(process_id: str):
    return _json(_process(catalog.get_startable(_uow(write=False), g.api_user_id, process_id), with_form=True))


@bp.post("/processes/<process_id>/instances")
def start_instance(process_id: str):
    body = _body(required={"office"}, allowed={"office", "data", "emergency_id"})
    emergency = body.get("emergency_id")  # checked by the engine: an active emergency of the office
    instance = instances.start_instance(
        _uow(), g.api_user_id, process_id, body["office"], body.get("data"), emergency_id=emergency
    )
    location = url_for(".show_instance", instance_id=instance.id)
    return _json(_instance(instance), 201, {"Location": location})


@bp.get("/instances/<int:instance_id>")
def show_instance(instance_id: int):
    return _json(_instance(instances.get_instance(_uow(write=False), g.api_user_id, instance_id)))


@bp.get("/instances/<int:instance_id>/events")
def list_events(instance_id: int):
    instance = instances.get_instance(_uow(write=False), g.api_user_id, instance_id)
    return _json({"events": [_event(e) for e in instance.events]})


@bp.get("/tasks")
def list_tasks():
    return _json({"tasks": [_task(t) for t in tasks.inbox(_uow(write=False), g.api_user_id)]})


@bp.get("/tasks/<task_id>")
def show_task(task_id: str):
    return _json(_task(tasks.get_task(_uow(write=False), g.api_user_id, task_id), with_form=True))


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id: str):
    return _json(_task(tasks.claim_task(_uow(), g.api_user_id, task_id)))


@bp.post("/tasks/<task_id>/release")
def release_task(task_id: str):
    return _json(_task(tasks.release_task(_uow(), g.api_user_id, task_id)))


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id: str):
    body = _body(required=set(), allowed={"data"})
    return _json(_instance(tasks.complete_task(_uow(), g.api_user_id, task_id, body.get("data"))))


# --- authentication and errors -------------------------------------------------------------------


@bp.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(401, "an API token is required: Authorization: Bearer TOKEN", headers=_challenge())
    user_id = users.user_for_token(_uow(write=False), token.strip())
    if user_id is None:
        return _error(401, "the API token is not valid", headers=_challenge('error="invalid_token"'))
    g.api_user_id = user_id
    return None


@bp.before_request
def path_values_in_range():
    """An id past the database's INTEGER, or a NUL character (PostgreSQL refuses it in text), names
    nothing that exists: answered here rather than by a database error."""
    for value in (request.view_args or {}).values():
        if (isinstance(value, int) and not 0 <= value <= MAX_ID) or (isinstance(value, str) and "\x00" in value):
            return _error(404, "not found")
    return None


def _challenge(*params: str) -> dict[str, str]:
    return {"WWW-Authenticate": ", ".join(('Bearer realm="doeflow"', *params))}


# --- request and response bodies -----------------------------------------------------------------


def _uow(*, write: bool = True) -> UnitOfWork:
    # Tests and time-travel tools may put a clock in app.extensions["doeflow.clock"].
    clock = current_app.extensions.get("doeflow.clock", SYSTEM_CLOCK)
    return database(current_app).unit_of_work(clock, write=write)


def _body(*, required: set[str], allowed: set[str]) -> dict[str, Any]:
    """The request's JSON object, checked against the envelope (`data` is always a form object)."""
    raw = request.get_data(cache=True)
    try:
        body = jsonbody.loads(raw) if raw.strip() else {}
    except ValueError as error:
        raise InvalidData(f"the request body is not valid JSON: {error}") from error
    except RecursionError as error:
        raise InvalidData("the request body is nested too deeply") from error
    if not isinstance(body, dict):
        raise InvalidData("the request body must be a JSON object")
    unsafe = unsafe_values(body, reserved=False)
    if unsafe:  # NUL, a lone surrogate: text no store keeps, in the form's data or in the envelope
        raise InvalidData("the request body holds text or numbers that cannot be stored", unsafe)
    fields = {name: "This field is required." for name in sorted(required - body.keys())}
    fields |= {name: "Unexpected field." for name in body if name not in allowed}
    for name in required & body.keys():
        if not isinstance(body[name], str) or not body[name]:
            fields[name] = "Must be text."
    if not isinstance(body.get("data", {}), dict):
        fields["data"] = "Must be an object of form fields."
    if fields:
        raise InvalidData("the request body has errors", fields)
    return body


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(body, default=_encode, ensure_ascii=False)
    return current_app.response_class(text, status=status, headers=headers, mimetype="application/json")


def _error(status: int, message: str, fields: dict[str, str] | None = None, *, headers=None) -> Response:
    return _json({"error": message, "fields": dict(fields or {})}, status, headers)


def _encode(value: Any) -> Any:
    """Values that task data may hold besides plain JSON (dates from scripts, decimals from DMN)."""
    if isinstance(value, datetime):
        return _time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _process(process: StartableProcess, *, with_form: bool = False) -> dict[str, Any]:
    body = {
        "id": process.process_id,
        "name": process.name,
        "documentation": process.documentation,
        "version": process.version,
        "published_at": _time(process.published_at),
        "offices": list(process.offices),
        "form_key": process.form_key,
    }
    if with_form:
        body["form"] = process.form
    return body


def _task(task: TaskView, *, with_form: bool = False) -> dict[str, Any]:
    body = {
        "id": task.id,
        "instance_id": task.instance_id,
        "instance_title": task.instance_title,
        "instance_reference": task.instance_reference,
        "process_id": task.process_id,
        "element_id": task.element_id,
        "title": task.title,
        "lane": task.lane,
        "office": task.office,
        "assignee_id": task.assignee_id,
        "state": task.state,
        "created_at": _time(task.created_at),
        "due_at": _time(task.due_at),
        "completed_at": _time(task.completed_at),
        "form_key": task.form_key,
    }
    if with_form:
        body["form"] = task.form
    return body


def _instance(instance: InstanceView) -> dict[str, Any]:
    return {
        "id": instance.id,
        "reference": instance.reference,
        "emergency_id": instance.emergency_id,
        "process_id": instance.process_id,
        "process_name": instance.process_name,
        "version": instance.version,
        "office": instance.office,
        "title": instance.title,
        "status": instance.status,
        "sla_breached": instance.sla_breached,
        "started_by_id": instance.started_by_id,
        "started_at": _time(instance.started_at),
        "completed_at": _time(instance.completed_at),
        "tasks": [_task(t) for t in instance.tasks],
        "data": instance.data,
        "summary": answers.summary_text(instance.summary, language()),
    }


def _event(event: EventView) -> dict[str, Any]:
    return {
        "at": _time(event.at),
        "kind": event.kind,
        "actor_id": event.actor_id,
        "actor_name": event.actor_name,
        "task_id": event.task_id,
        "element_id": event.element_id,
        "title": event.title,
        "outcome": event.outcome,
        "data": event.data,
    }
