"""Validate submitted task data against a form's JSON Schema, with one message per field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from . import rules

# SpiffWorkflow's serializer decodes any dict with this key as one of its own objects.
RESERVED_KEYS = frozenset({"typename"})
MAX_DEPTH = 20


def check_schema(schema: Any) -> str | None:
    """None if `schema` is a usable JSON Schema, else why not."""
    if not isinstance(schema, dict):
        return "a form must be a JSON object (a JSON Schema)"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return f"not a valid JSON Schema: {error.message}"
    return "; ".join(rules.problems(schema)) or None


def accepted(schema: dict | None, data: Any, context: Mapping | None = None) -> tuple[Any, dict[str, str]]:
    """What a submission stores and what is wrong with it, the one check of every path in (a task,
    a start form, a dry run): the read-only fields dropped, the computed totals set by the server,
    then the schema and the cross-field rules checked, with `context` the case's data the form is
    shown with (the amount approved earlier)."""
    data = rules.with_totals(schema, editable(schema, data), context)
    return data, field_errors(schema, data, context)


def editable(schema: dict | None, data: Any) -> Any:
    """The submitted data without the fields the form shows read-only (`x-readonly`) or computes
    (`x-computed`): those come from the process or the server, and a submission must not set them."""
    if not isinstance(schema, dict) or not isinstance(data, dict):
        return data
    readonly = {
        name
        for name, spec in (schema.get("properties") or {}).items()
        if isinstance(spec, dict) and (spec.get("x-readonly") or spec.get("x-computed"))
    }
    return {name: value for name, value in data.items() if name not in readonly}


def field_errors(schema: dict | None, data: Any, context: Mapping | None = None) -> dict[str, str]:
    """Map of field path (`budget.0.amount`, or `` for the whole form) to a message; empty if valid.
    The form's cross-field rules (`x-rules`) read a value not typed on the form from `context`."""
    if not isinstance(data, dict):
        return {"": "the submitted data must be an object of fields"}
    errors = _reserved_keys(data, "", 0)
    if schema is None:
        return errors
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = _path(error)
        errors.setdefault(path, _message(error))
    for path, message in rules.rule_errors(schema, data, context, invalid=set(errors)).items():
        errors.setdefault(path, message)
    return errors


def _reserved_keys(value: Any, path: str, depth: int) -> dict[str, str]:
    if depth > MAX_DEPTH:
        return {path: "the data is nested too deeply"}
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key in RESERVED_KEYS or str(key).startswith("_"):
                found[here] = f"'{key}' is a reserved name and cannot be used as a field"
            else:
                found.update(_reserved_keys(item, here, depth + 1))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.update(_reserved_keys(item, f"{path}.{i}" if path else str(i), depth + 1))
    return found


def _path(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        parts.append(missing)
    return ".".join(p for p in parts if p != "")


def _message(error: ValidationError) -> str:
    v, expected = error.validator, error.validator_value
    if v == "required":
        return "This field is required."
    if v == "minimum":
        return f"Must be at least {expected}."
    if v == "maximum":
        return f"Must be at most {expected}."
    if v == "exclusiveMinimum":
        return f"Must be more than {expected}."
    if v == "exclusiveMaximum":
        return f"Must be less than {expected}."
    if v == "enum":
        return "Choose one of: " + ", ".join(map(str, expected)) + "."
    if v == "type":
        names = {
            "integer": "a whole number",
            "number": "a number",
            "string": "text",
            "boolean": "yes or no",
            "array": "a list",
            "object": "a group of fields",
        }
        wanted = expected if isinstance(expected, list) else [expected]
        return "Must be " + " or ".join(names.get(t, t) for t in wanted) + "."
    if v == "minLength":
        return "This field is required." if expected == 1 else f"Must be at least {expected} characters."
    if v == "maxLength":
        return f"Must be at most {expected} characters."
    if v == "format":
        return f"Must be a valid {expected}."
    if v == "minItems":
        return f"Give at least {expected}."
    if v == "maxItems":
        return f"Give at most {expected}."
    if v == "additionalProperties":
        return "Unexpected field: " + error.message.split("(")[-1].rstrip(")").replace(" were unexpected", "").replace(
            " was unexpected", ""
        )
    return error.message


# The messages above in Spanish, pattern by pattern (the English text is the key the engine keeps).
_SPANISH = [
    (r"This field is required\.", "Este campo es obligatorio."),
    (r"Must be at least (\d+) characters\.", r"Debe tener al menos \1 caracteres."),
    (r"Must be at most (\d+) characters\.", r"Debe tener como máximo \1 caracteres."),
    (r"Must be at least (.+)\.", r"Debe ser al menos \1."),
    (r"Must be at most (.+)\.", r"Debe ser como máximo \1."),
    (r"Must be more than (.+)\.", r"Debe ser mayor que \1."),
    (r"Must be less than (.+)\.", r"Debe ser menor que \1."),
    (r"Choose one of: (.+)", r"Elija una de: \1"),
    (r"Must be a valid date\.", "Debe ser una fecha válida (AAAA-MM-DD)."),
    (r"Must be a valid (.+)\.", r"Debe ser un \1 válido."),
    (r"Must be a whole number\.", "Debe ser un número entero."),
    (r"Must be a number\.", "Debe ser un número."),
    (r"Must be text\.", "Debe ser texto."),
    (r"Must be yes or no\.", "Debe ser sí o no."),
    (r"Must be a list\.", "Debe ser una lista."),
    (r"Give at least (\d+)\.", r"Indique al menos \1."),
    (r"Give at most (\d+)\.", r"Indique como máximo \1."),
    (r"Unexpected field: (.+)", r"Campo inesperado: \1"),
]


def localize(message: str, language: str, schema: Mapping | None = None) -> str:
    """A validation message in `language` ("en" or "es"); unknown messages stay as they are. The
    messages of the form's own rules are found in `schema`."""
    if language != "es":
        return message
    ruled = rules.spanish(message, schema)
    if ruled is not None:
        return ruled
    for pattern, replacement in _SPANISH:
        if re.fullmatch(pattern, message):
            return re.sub(pattern, replacement, message)
    return message
