"""Validate submitted task data against a form's JSON Schema, with one message per field."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError

from . import rules

# SpiffWorkflow's serializer decodes any dict with this key as one of its own objects.
RESERVED_KEYS = frozenset({"typename"})
MAX_DEPTH = 20
# A code point of a UTF-16 surrogate: never a character (a decoded JSON string holds one only when
# it was escaped alone, "\udfff"), and no database or UTF-8 encoder takes it.
SURROGATE = re.compile("[\ud800-\udfff]")
# What a draft must respect although it may be incomplete: how much it holds, never what it says.
DRAFT_BOUNDS = frozenset({"maxItems", "maxLength", "maxProperties"})


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
    errors = unsafe_values(data)
    if schema is None:
        return errors
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = _path(error)
        errors.setdefault(path, _message(error))
    for path, message in rules.rule_errors(schema, data, context, invalid=set(errors)).items():
        errors.setdefault(path, message)
    return errors


def draft_errors(schema: dict | None, data: Any) -> dict[str, str]:
    """What a draft may not keep: values no store could keep (`unsafe_values`) and more than the
    form holds (more lines than maxItems, longer text than maxLength). A draft may be incomplete or
    wrong, never bigger than the form allows: the task page renders every line it keeps."""
    if not isinstance(data, dict):
        return {"": "Must be a group of fields."}
    errors = unsafe_values(data)
    if schema is None:
        return errors
    validator = Draft202012Validator(schema)
    for error in validator.iter_errors(data):
        if error.validator in DRAFT_BOUNDS:
            errors.setdefault(_path(error), _message(error))
    return errors


def value_problem(value: Any) -> str | None:
    """Why one value cannot be stored as task data (JSON, UTF-8 text, PostgreSQL), or None: a number
    that is not finite (NaN, Infinity), text with a NUL character or a lone surrogate."""
    if isinstance(value, float) and not math.isfinite(value):
        return "Must be a finite number."
    if isinstance(value, str):
        if "\x00" in value:
            return "Must not contain NUL characters."
        if SURROGATE.search(value):
            return "Must be valid Unicode text."
    return None


def unsafe_values(data: Any, *, reserved: bool = True) -> dict[str, str]:
    """Per field path, the names and values no store could keep: `value_problem`s in names or
    values, nesting past MAX_DEPTH and, unless `reserved` is false, reserved names (SpiffWorkflow's
    `typename`, a leading `_`). One walk, each value once, no recursion."""
    found: dict[str, str] = {}
    pending: list[tuple[Any, str, int]] = [(data, "", 0)]
    while pending:
        value, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            found[path] = "the data is nested too deeply"
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                here = f"{path}.{key}" if path else str(key)
                if value_problem(key) is not None:
                    found[_printable(here)] = "Not a valid field name."
                elif reserved and (key in RESERVED_KEYS or str(key).startswith("_")):
                    found[here] = f"'{key}' is a reserved name and cannot be used as a field"
                else:
                    pending.append((item, here, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{path}.{i}" if path else str(i), depth + 1) for i, item in enumerate(value))
        elif (why := value_problem(value)) is not None:
            found[path] = why
    return found


def _printable(path: str) -> str:
    # A field path is shown and sent back as JSON: the characters it may not hold are escaped.
    return SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", path).replace("\x00", "\\u0000")


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
    (r"Must be a finite number\.", "Debe ser un número finito."),
    (r"Must not contain NUL characters\.", "No debe contener caracteres NUL."),
    (r"Must be valid Unicode text\.", "Debe ser texto Unicode válido."),
    (r"Not a valid field name\.", "Nombre de campo no válido."),
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
