"""Reading a form's JSON Schema (forms/README.md) as the pages need it: labels and help in a
language, option labels, the control a field is shown with, and the order of its fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEXT = {
    "en": {
        "required": "required",
        "choose": "Choose…",
        "add": "Add a line",
        "remove": "Remove this line",
        "line": "Line {}",
        "yes": "Yes",
        "no": "No",
        "problem": "There is a problem",
        "error": "Error:",
    },
    "es": {
        "required": "obligatorio",
        "choose": "Elija…",
        "add": "Añadir una línea",
        "remove": "Quitar esta línea",
        "line": "Línea {}",
        "yes": "Sí",
        "no": "No",
        "problem": "Hay un problema",
        "error": "Error:",
    },
}


def words(language: str, key: str) -> str:
    """One of the words the form pages use around the fields, in `language`."""
    return TEXT.get(language, TEXT["en"])[key]


def title(spec: Mapping, language: str, default: str = "") -> str:
    """The label of a form or a field in `language`, falling back to English."""
    return str((language == "es" and spec.get("x-title-es")) or spec.get("title") or default)


def description(spec: Mapping, language: str) -> str:
    """The help text of a form or a field in `language`, falling back to English."""
    return str((language == "es" and spec.get("x-description-es")) or spec.get("description") or "")


def token(value: Any) -> str:
    """How an enum value travels in HTML (`true`, `3`, `L2`)."""
    return "true" if value is True else "false" if value is False else "" if value is None else str(value)


def enum_label(spec: Mapping, value: Any, language: str) -> str:
    labels = spec.get("x-enum-labels") or {}
    sent = token(value)
    return str((labels.get(language) or {}).get(sent) or (labels.get("en") or {}).get(sent) or sent)


def json_type(spec: Mapping) -> str:
    kind = spec.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind or ("string" if "enum" in spec else "")


def control_kind(spec: Mapping) -> str:
    """Which control shows the field: file, group, list, choices, object, radio, select, checkbox,
    number, date, email, textarea or text."""
    kind, widget = json_type(spec), spec.get("x-widget")
    if widget == "file":  # documents attached to the case; the value is their attachment ids
        return "file"
    if kind == "array":
        items = spec.get("items") or {}
        if json_type(items) == "object":
            return "group"
        return "choices" if "enum" in items else "list"
    if kind == "object":
        return "object"
    if "enum" in spec:
        return "select" if widget == "select" or (widget != "radio" and len(spec["enum"]) > 4) else "radio"
    if kind == "boolean":
        return "radio" if widget == "radio" else "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if spec.get("format") in ("date", "email"):
        return spec["format"]
    return "textarea" if widget == "textarea" or (spec.get("maxLength") or 0) > 300 else "text"


def options(spec: Mapping) -> list:
    return list(spec["enum"]) if "enum" in spec else [True, False]


def ordered(schema: Mapping) -> list[tuple[str, dict]]:
    """The properties in `x-order`, then the others in schema order."""
    properties = schema.get("properties") or {}
    names = [n for n in schema.get("x-order") or [] if n in properties]
    names += [n for n in properties if n not in names]
    return [(n, properties[n]) for n in dict.fromkeys(names) if isinstance(properties[n], dict)]


def join_path(prefix: str, name: Any) -> str:
    return f"{prefix}.{name}" if prefix else str(name)
