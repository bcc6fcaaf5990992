"""A case started for an emergency: the emergency must be active and of the case's office, and the
case reads its level, crisis type and onset date from it, so its start form stops asking them."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import InvalidData, NotFound
from ..org import offices as org
from ..store.models import Emergency
from ..store.uow import Transaction
from .emergencies import EmergencyStatus

# What a start form stops asking when the case belongs to an emergency: the emergency says it.
EMERGENCY_FIELDS = ("emergency_level", "crisis_type", "onset_date")


def emergency_to_start(tx: Transaction, actor: org.Actor, emergency_id: Any, office_code: str) -> Emergency:
    """The emergency a new case of `office_code` is started for: it must be one the actor sees,
    of the same office, and active."""
    if isinstance(emergency_id, str) and emergency_id.strip().isdigit():
        emergency_id = int(emergency_id)
    if not isinstance(emergency_id, int) or isinstance(emergency_id, bool) or not 0 < emergency_id < 2**31:
        raise InvalidData("emergency_id must be an emergency's id", {"emergency_id": "Must be an emergency's id."})
    row = tx.session.get(Emergency, emergency_id)
    if row is None or not actor.sees_office(row.office_code):
        raise NotFound(f"no emergency {emergency_id}")
    if row.office_code != office_code:
        message = f"This emergency is of {row.office_code}, not of {office_code}."
        raise InvalidData("the emergency is of another office", {"emergency_id": message})
    if row.status != EmergencyStatus.ACTIVE.value:
        closed = "This emergency is closed: it takes no new case."
        raise InvalidData("the emergency is closed", {"emergency_id": closed})
    return row


def emergency_facts(row: Emergency) -> dict[str, Any]:
    """What a case of the emergency reads from it (the fields its start form stops asking)."""
    return {"emergency_level": row.level, "crisis_type": row.crisis_type, "onset_date": row.onset_date.isoformat()}


def form_facts(row: Emergency, schema: dict | None) -> dict[str, Any]:
    """The emergency's facts that a start form declares: they replace what was posted for them."""
    declared = (schema or {}).get("properties", {})
    return {name: value for name, value in emergency_facts(row).items() if name in declared}


def without_emergency_fields(schema: dict | None) -> dict | None:
    """A start form without the fields the emergency answers (they are shown, not asked)."""
    if not schema or not any(name in schema.get("properties", {}) for name in EMERGENCY_FIELDS):
        return schema
    reduced = copy.deepcopy(schema)
    for name in EMERGENCY_FIELDS:
        reduced.get("properties", {}).pop(name, None)
    for key in ("required", "x-order"):
        if key in reduced:
            reduced[key] = [name for name in reduced[key] if name not in EMERGENCY_FIELDS]
    return reduced
