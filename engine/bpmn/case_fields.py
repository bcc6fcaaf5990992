"""The fields of a case's data that the engine writes itself, from the case's row (its office):
no input (start data, a message's payload) may set or overwrite them, so what a process reads
there, and what its messages carry on, is always the case's own. A diagram that would have a
message's payload land in one of them is refused when it is checked (`owned_variables`)."""

from __future__ import annotations

from typing import Any, Iterator

from lxml import etree

from .vocabulary import NS, Finding


def engine_fields(office: str) -> dict[str, Any]:
    """What the engine puts into a new case's data beside its start data."""
    return {"office": office}


OWNED_FIELDS = frozenset(engine_fields(""))


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
