"""The case summary: the key facts of a request, gathered from its start form and every earlier
step, so that whoever checks, signs, reviews, decides or funds it sees what they decide on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..views import EventView, Fact


def facts(start_form: Mapping | None, forms: Mapping[str, Mapping], events: Iterable[EventView]) -> list[Fact]:
    """Every answered field of the start form, then the fields later forms mark `x-summary`; a later
    answer to a field already shown replaces it (a revised amount), in the place it first took.
    Read-only fields are copies of earlier ones and never count."""
    found: dict[str, Fact] = {}
    for event in events:
        if event.kind == "started":
            schema, key = start_form, None
        elif event.kind == "completed_task":
            schema, key = forms.get(event.element_id or ""), "x-summary"
        else:
            continue
        if not isinstance(schema, Mapping) or not isinstance(event.data, Mapping):
            continue
        for name, spec in _fields(schema):
            if name not in event.data or spec.get("x-readonly") or spec.get("x-computed") or _empty(event.data[name]):
                continue
            if name in found or key is None or spec.get(key):
                found[name] = Fact(name, dict(spec), event.data[name])
    return list(found.values())


def _fields(schema: Mapping) -> list[tuple[str, Mapping]]:
    properties = schema.get("properties") or {}
    order = [name for name in schema.get("x-order") or [] if name in properties]
    order += [name for name in properties if name not in order]
    return [(name, properties[name]) for name in order if isinstance(properties[name], Mapping)]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []
