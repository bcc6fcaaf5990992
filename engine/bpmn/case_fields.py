"""The fields of a case's data that the engine writes itself, from the case's row (its office):
no input (start data, a message's payload) may set or overwrite them, so what a process reads
there, and what its messages carry on, is always the case's own. A diagram that would have a
message's payload land in one of them is refused when it is checked (`owned_variables`)."""

from __future__ import annotations

import re
from typing import Any, Iterator

from lxml import etree

from .vocabulary import NS, Finding


def engine_fields(office: str) -> dict[str, Any]:
    """What the engine puts into a new case's data beside its start data."""
    return {"office": office}


OWNED_FIELDS = frozenset(engine_fields(""))
CASE_REFERENCE = "x-case-reference"  # a start-form property that holds the case's own reference
MAX_KIND = 12


def own_reference_fields(schema: dict | None) -> list[str]:
    """The properties of a form that hold the case's own reference (engine.work.case_links)."""
    properties = (schema or {}).get("properties") or {}
    return [name for name, spec in properties.items() if isinstance(spec, dict) and spec.get(CASE_REFERENCE)]


def own_references(schema: dict | None, reference: str | None) -> dict[str, Any]:
    """What the engine puts into a new case's data for its own-reference properties."""
    return {name: reference for name in own_reference_fields(schema)} if reference else {}


def reference_kind(process_id: str, declared: str | None = None) -> str:
    """The first part of a case reference: what the diagram declares, else the process id's first
    word in capitals (`mefm_request` -> MEFM)."""
    chosen = declared or re.split(r"[^A-Za-z0-9]+", process_id.strip())[0] or "CASE"
    return re.sub(r"[^A-Z0-9]", "", chosen.upper())[:MAX_KIND] or "CASE"


def without_owned(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the fields the engine owns: an input's value for them is never taken."""
    return {name: value for name, value in data.items() if name not in OWNED_FIELDS}


def owned_variables(tree: etree._ElementTree) -> Iterator[Finding]:
    """A message catch whose `spiffworkflow:messageVariable` names a field the engine owns: the
    payload would replace it (SpiffWorkflow sets that variable to the whole payload)."""
    for holder in tree.xpath("//spiffworkflow:messageVariable", namespaces=NS):
        name = (holder.text or "").strip()
        if name in OWNED_FIELDS:
            owner = next((a for a in holder.iterancestors() if a.get("id") is not None), holder)
            message = f"message variable '{name}' is a field the engine sets itself: name another variable"
            yield Finding(owner, message, line=holder.sourceline)
