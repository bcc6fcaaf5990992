"""The building blocks of the OpenAPI document (web/openapi.py): schema shorthands, path
parameters, operations with their error responses."""

from __future__ import annotations

from typing import Any

TIME = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (`Z`)."}
OPTIONAL_TIME = {**TIME, "type": ["string", "null"]}
JSON_SCHEMA = {
    "type": ["object", "null"],
    "description": "A JSON Schema (draft 2020-12) with doeflow's UI hints (forms/README.md); null without a form.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, description: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": [kind, "null"]}
    if description:
        schema["description"] = description
    return schema


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = (), description: str = "") -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": [name for name in properties if name not in optional],
        "properties": properties,
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


ERRORS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "413": "TooLarge",
    "422": "ProcessFailure",
}


def _parameter(name: str, kind: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}, "description": description}


def _operation(
    operation_id: str,
    summary: str,
    ok: tuple[str, str, dict[str, Any]],
    errors: tuple[str, ...],
    *,
    body: str | None = None,
    body_required: bool = False,
    headers: dict[str, Any] | None = None,
) -> dict[str, Any]:
    status, description, schema = ok
    success: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        success["headers"] = headers
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "responses": {
            status: success,
            **{code: {"$ref": f"#/components/responses/{ERRORS[code]}"} for code in ("401", *errors)},
            "default": {"$ref": "#/components/responses/Error"},
        },
    }
    if body:
        operation["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def _list_of(key: str, item: str) -> dict[str, Any]:
    return _object({key: {"type": "array", "items": _ref(item)}})
