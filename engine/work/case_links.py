"""The references that link cases are the generated ones (engine.runtime.references), never typed.
A start form names them declaratively:
- `"x-case-reference": true` on a property: it holds the case's own reference (an EPPE's
  `eppe_reference` is EPPE-HTI-2026-0001), set by the engine when the case is created; the form
  shows it read-only, so nothing posted for it is taken.
- `"x-reference-of": "<process id>"` on a property: it names another case, one of the generated
  references of that process's cases in the same office; the form offers them as a choice (its
  `enum`, checked at the server like any other), so another office's or an unknown one is refused."""

from __future__ import annotations

import copy

from sqlalchemy import select

from ..bpmn.case_fields import CASE_REFERENCE, own_reference_fields, own_references  # noqa: F401 - the one rule
from ..store.models import ProcessInstance
from ..store.uow import Transaction

REFERENCE_OF = "x-reference-of"
MAX_CHOICES = 500  # the newest; a select longer than that is no help to anybody


def with_reference_choices(tx: Transaction, schema: dict | None, offices: list[str] | tuple[str, ...]) -> dict | None:
    """The form with each `x-reference-of` property limited to the references of that process's cases
    (not cancelled) in `offices`, newest first; the form itself is left as it is."""
    properties = (schema or {}).get("properties") or {}
    linked = {
        name: spec[REFERENCE_OF]
        for name, spec in properties.items()
        if isinstance(spec, dict) and spec.get(REFERENCE_OF)
    }
    if not linked:
        return schema
    resolved = copy.deepcopy(schema)
    for name, process_id in linked.items():
        spec = resolved["properties"][name]
        spec.pop("pattern", None)  # the choice is the check
        spec["enum"] = references_of(tx, process_id, offices)
    return resolved


def references_of(tx: Transaction, process_id: str, offices: list[str] | tuple[str, ...]) -> list[str]:
    if not offices:
        return []
    return list(
        tx.session.scalars(
            select(ProcessInstance.reference)
            .where(
                ProcessInstance.process_id == process_id,
                ProcessInstance.office_code.in_(list(offices)),
                ProcessInstance.status != "cancelled",
                ProcessInstance.reference.is_not(None),
            )
            .order_by(ProcessInstance.started_at.desc(), ProcessInstance.id.desc())
            .limit(MAX_CHOICES)
        )
    )
