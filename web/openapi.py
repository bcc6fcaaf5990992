"""The OpenAPI 3.1 description of the JSON API v1, served at /api/v1/openapi.json.

Written as data next to the routes in web/api.py; tests check that both list the same paths and
methods, and that real responses match the schemas below.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from . import openapi_attachments, openapi_case, openapi_cases, openapi_emergencies, openapi_reports
from .openapi_parts import (
    JSON_SCHEMA,
    OPTIONAL_TIME,
    TIME,
    _list_of,
    _nullable,
    _object,
    _operation,
    _parameter,
    _ref,
)

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": {"type": "string", "description": "What went wrong, for a person to read."},
            "fields": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "Per-field messages: a form field's dot-separated path (`activities.0.cost_usd`), "
                "a body field (`office`, `data`), or `` for the whole form. Empty when no field is at fault.",
            },
        },
        description="Every error response has this shape.",
    ),
    "Process": _object(
        {
            "id": {"type": "string", "examples": ["mefm_request"]},
            "name": {"type": "string"},
            "documentation": _nullable("string", "The process's BPMN documentation."),
            "version": {"type": "integer", "minimum": 1, "description": "The latest published version."},
            "published_at": TIME,
            "offices": {
                "type": "array",
                "items": {"type": "string"},
                "description": "The office codes the caller may start this process for.",
            },
            "form_key": _nullable("string", "The start form's key."),
            "form": {**JSON_SCHEMA, "description": "The start form's JSON Schema (only on GET /processes/{id})."},
        },
        optional=("form",),
        description="A process the caller may start (its latest published version).",
    ),
    "Task": _object(
        {
            "id": {"type": "string", "description": "The task's id (a UUID)."},
            "instance_id": {"type": "integer"},
            "instance_title": {"type": "string"},
            "instance_reference": _nullable("string", "Its case's reference in the inbox (GET /tasks), else null."),
            "process_id": {"type": "string"},
            "element_id": {"type": "string", "description": "The BPMN element of the task."},
            "title": {"type": "string"},
            "lane": _nullable("string", "The role the task is for (its BPMN lane)."),
            "office": {"type": "string", "description": "The office the instance concerns."},
            "assignee_id": _nullable("integer", "The user who holds the task; null while it is open to claim."),
            "state": {"type": "string", "enum": ["open", "completed", "cancelled"]},
            "created_at": TIME,
            "due_at": {**OPTIONAL_TIME, "description": "When the task's SLA runs out (its earliest escalation)."},
            "completed_at": OPTIONAL_TIME,
            "form_key": _nullable("string"),
            "form": {**JSON_SCHEMA, "description": "The task form's JSON Schema (only on GET /tasks/{id})."},
        },
        optional=("form",),
        description="A human task (a BPMN user or manual task).",
    ),
    "Instance": _object(
        {
            "id": {"type": "integer"},
            "reference": _nullable("string", "The case's generated reference, e.g. MEFM-HTI-2026-0007."),
            "emergency_id": _nullable("integer", "The emergency the case belongs to, if any."),
            "process_id": {"type": "string"},
            "process_name": {"type": "string"},
            "version": {"type": "integer", "description": "The process version the instance runs on, to its end."},
            "office": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "string", "examples": ["running", "completed", "cancelled"]},
            "sla_breached": {"type": "boolean", "description": "An escalation timer fired."},
            "started_by_id": _nullable("integer"),
            "started_at": TIME,
            "completed_at": OPTIONAL_TIME,
            "tasks": {"type": "array", "items": _ref("Task"), "description": "The open tasks, with their due times."},
            "data": {"type": "object", "description": "The instance's current process data."},
            "summary": {
                "type": "array",
                "description": "The key facts of the case (its start form and the fields later steps mark "
                "`x-summary`), labelled and worded in the caller's language (`Accept-Language`).",
                "items": _object({"label": {"type": "string"}, "value": {"type": "string"}}),
            },
        },
        description="A process instance.",
    ),
    "Event": _object(
        {
            "at": TIME,
            "kind": {"type": "string", "examples": ["started", "claimed", "released", "completed_task", "completed"]},
            "actor_id": _nullable("integer"),
            "actor_name": _nullable("string"),
            "task_id": _nullable("string"),
            "element_id": _nullable("string"),
            "title": _nullable("string", "The task's title, for task events."),
            "outcome": _nullable("string", "The decision taken, when the form has one."),
            "data": _nullable("object", "The data submitted."),
        },
        description="One entry of an instance's audit timeline.",
    ),
    "StartRequest": _object(
        {
            "office": {
                "type": "string",
                "description": "The code of the office the instance concerns.",
                "examples": ["HTI"],
            },
            "data": {"type": "object", "description": "The start form's fields."},
            "emergency_id": {
                "type": ["integer", "null"],
                "description": "The emergency the case belongs to: an active one of the same office. The case reads "
                "its level, crisis type and onset date from it (what the start form posts for them is replaced).",
            },
        },
        optional=("data", "emergency_id"),
    ),
    "CompleteRequest": _object(
        {"data": {"type": "object", "description": "The task form's fields (omit for a task without a form)."}},
        optional=("data",),
        description="The submitted form, wrapped in `data` as when starting an instance. Any other top-level "
        "field is refused (400), so form fields sent unwrapped never complete a task by mistake.",
    ),
}

RESPONSES: dict[str, Any] = {
    name: {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}
    for name, description in {
        "BadRequest": "The body is not JSON, or a field is invalid: `fields` says which and why. Nothing changed.",
        "Forbidden": "The caller may see this but not do it (outside their roles, or the task is someone else's).",
        "NotFound": "No such thing, or it belongs to an office the caller does not work for.",
        "Conflict": "The task is no longer open (its case may have been cancelled), is claimed by someone else, "
        "or changed at the same time; or the case has already ended.",
        "ProcessFailure": "The process could not run the step (a script or condition failed). Nothing changed.",
        "Error": "Any other error (405 wrong method, 500).",
    }.items()
}
RESPONSES["Unauthorized"] = {
    "description": "No token, or a token that is not valid.",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="doeflow"'}},
    "content": {"application/json": {"schema": _ref("Error")}},
}

PROCESS_ID = _parameter("process_id", "string", "The BPMN process id.")
INSTANCE_ID = _parameter("instance_id", "integer", "The instance's id.")
TASK_ID = _parameter("task_id", "string", "The task's id.")


PATHS: dict[str, Any] = {
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document (no token needed).",
            "security": [],
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {}}}},
        }
    },
    "/processes": {
        "get": _operation(
            "listProcesses",
            "The processes the caller may start, each with the offices they may start it for.",
            ("200", "The startable processes, by id.", _list_of("processes", "Process")),
            (),
        )
    },
    "/processes/{process_id}": {
        "parameters": [PROCESS_ID],
        "get": _operation(
            "getProcess",
            "A process the caller may start, with its start form's JSON Schema.",
            ("200", "The process, with `form`.", _ref("Process")),
            ("404",),
        ),
    },
    "/processes/{process_id}/instances": {
        "parameters": [PROCESS_ID],
        "post": _operation(
            "startInstance",
            "Start the latest version of the process for an office, with the start form's data.",
            ("201", "The new instance, with its first open tasks.", _ref("Instance")),
            ("400", "403", "404", "409", "422"),
            body="StartRequest",
            body_required=True,
            headers={"Location": {"schema": {"type": "string"}, "description": "The instance's URL."}},
        ),
    },
    "/instances/{instance_id}": {
        "parameters": [INSTANCE_ID],
        "get": _operation(
            "getInstance",
            "An instance: status, version, open tasks with due times, SLA state and data.",
            ("200", "The instance.", _ref("Instance")),
            ("404",),
        ),
    },
    "/instances/{instance_id}/events": {
        "parameters": [INSTANCE_ID],
        "get": _operation(
            "listEvents",
            "The instance's audit timeline, oldest first.",
            ("200", "The events.", _list_of("events", "Event")),
            ("404",),
        ),
    },
    "/tasks": {
        "get": _operation(
            "listTasks",
            "The caller's inbox: open tasks assigned to them and open tasks their roles may claim, soonest due first.",
            ("200", "The tasks.", _list_of("tasks", "Task")),
            (),
        )
    },
    "/tasks/{task_id}": {
        "parameters": [TASK_ID],
        "get": _operation(
            "getTask",
            "A task, with its form's JSON Schema and its due time.",
            ("200", "The task, with `form`.", _ref("Task")),
            ("404",),
        ),
    },
    "/tasks/{task_id}/claim": {
        "parameters": [TASK_ID],
        "post": _operation(
            "claimTask",
            "Take an open task offered to one of the caller's roles (claiming one's own task again is a no-op).",
            ("200", "The task, now assigned to the caller.", _ref("Task")),
            ("403", "404", "409"),
        ),
    },
    "/tasks/{task_id}/release": {
        "parameters": [TASK_ID],
        "post": _operation(
            "releaseTask",
            "Give a claimed task back to its role's candidates.",
            ("200", "The task, open to claim again.", _ref("Task")),
            ("403", "404", "409"),
        ),
    },
    "/tasks/{task_id}/complete": {
        "parameters": [TASK_ID],
        "post": _operation(
            "completeTask",
            'Submit the task\'s form as `{"data": {...}}`; an unclaimed task is taken by the caller on the way.',
            ("200", "The instance, with its next open tasks.", _ref("Instance")),
            ("400", "403", "404", "409", "422"),
            body="CompleteRequest",
        ),
    },
}

SCHEMAS |= openapi_attachments.SCHEMAS
RESPONSES |= openapi_attachments.RESPONSES
PATHS |= openapi_attachments.PATHS
SCHEMAS |= openapi_case.SCHEMAS
PATHS |= openapi_case.PATHS
SCHEMAS |= openapi_cases.SCHEMAS
PATHS |= openapi_cases.PATHS
SCHEMAS |= openapi_emergencies.SCHEMAS
PATHS |= openapi_emergencies.PATHS
SCHEMAS |= openapi_reports.SCHEMAS
PATHS |= openapi_reports.PATHS

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "doeflow API",
        "version": "1.0.0",
        "description": "The JSON API of doeflow: the processes a user may start, their instances and the user's "
        "tasks, with the same permissions as the web UI. Every request except this document needs "
        "`Authorization: Bearer TOKEN` (`flask --app wsgi users token EMAIL`). Times are ISO 8601 in UTC. "
        'Errors are `{"error": message, "fields": {field: message}}`. Instances and tasks of offices the '
        "caller does not work for answer 404, as if they did not exist.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token (`dfw_...`)."}
        },
    },
}


def document() -> dict[str, Any]:
    """A copy of the document, free for the caller to change."""
    return deepcopy(DOCUMENT)
