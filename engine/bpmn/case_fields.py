"""The fields of a case's data that the engine writes itself, from the case's row (its office):
no input (start data, a message's payload) may set or overwrite them, so what a process reads
there, and what its messages carry on, is always the case's own."""

from __future__ import annotations

from typing import Any


def engine_fields(office: str) -> dict[str, Any]:
    """What the engine puts into a new case's data beside its start data."""
    return {"office": office}


OWNED_FIELDS = frozenset(engine_fields(""))


def without_owned(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the fields the engine owns: an input's value for them is never taken."""
    return {name: value for name, value in data.items() if name not in OWNED_FIELDS}
