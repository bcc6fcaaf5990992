"""Readable, unique case references: MEFM-HTI-2026-0007 is the 7th MEFM case of Haiti's office
started in 2026. Every case gets one when it is created (steps.create_instance) and emergencies get
one too (EM-HTI-2026-0001). Numbers come from a counter row per prefix, taken with one atomic
UPDATE ... RETURNING, so two cases started at the same moment on two web hosts never share one."""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..bpmn.case_fields import reference_kind
from ..store.models import ReferenceCounter
from ..store.uow import Transaction

EMERGENCY = "EM"
REFERENCE = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*-\d{4}-\d{4,}$")


def kind_of(process_id: str, declared: str | None = None) -> str:
    """The first part of a reference (engine.bpmn.case_fields.reference_kind)."""
    return reference_kind(process_id, declared)


def next_reference(tx: Transaction, kind: str, office_code: str, year: int) -> str:
    """The next reference under KIND-OFFICE-YEAR, its number taken inside the caller's unit of work
    (rolled back with it, so a failed start gives its number back)."""
    prefix = f"{kind}-{office_code}-{year}"
    insert = postgresql_insert if tx.session.bind.dialect.name == "postgresql" else sqlite_insert
    tx.session.execute(insert(ReferenceCounter).values(prefix=prefix, last=0).on_conflict_do_nothing())
    taken = tx.session.execute(
        update(ReferenceCounter)
        .where(ReferenceCounter.prefix == prefix)
        .values(last=ReferenceCounter.last + 1)
        .returning(ReferenceCounter.last)
    ).scalar_one()
    return f"{prefix}-{taken:04d}"
