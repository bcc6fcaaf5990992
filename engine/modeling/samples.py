"""Sample answers for a dry run: the smallest answer a form accepts ("the data decides")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from forms.rules import fit
from forms.validation import field_errors


def minimal_answer(schema: dict, now: datetime) -> dict:
    """The first enum value of each required enum field and a minimal value of each other required
    field; fields a condition of the form (`if`/`then`) makes required are added the same way."""
    answer = _minimal(schema, now)
    if not isinstance(answer, dict):
        return {}
    properties = schema.get("properties") or {}
    for _ in range(3):
        missing = [name for name in field_errors(schema, answer) if name in properties and name not in answer]
        if not missing:
            break
        for name in missing:
            answer[name] = _minimal(properties[name], now)
    return fit(schema, answer)


def _minimal(schema: Any, now: datetime) -> Any:
    if not isinstance(schema, dict):
        return None
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: _minimal(properties.get(name), now) for name in schema.get("required", [])}
    if kind == "array":
        return [_minimal(schema.get("items"), now) for _ in range(schema.get("minItems", 0))]
    if kind in ("number", "integer"):
        if "minimum" in schema:
            return schema["minimum"]
        if "exclusiveMinimum" in schema:
            return schema["exclusiveMinimum"] + 1
        return 0
    if kind == "boolean":
        return True
    if kind == "string":
        formats = {"date": now.date().isoformat(), "date-time": now.isoformat(), "email": "someone@example.org"}
        if schema.get("format") in formats:
            return formats[schema["format"]]
        return "x" * max(schema.get("minLength", 1), 1)
    return None
