"""The moment a case is decided, kept for the SLA report (`case_decision`): the first outcome its
diagram marks other than a return (approved, rejected, endorsed...), or else its end. Written once,
by the step that decides, with the hours since the case started and whether an escalation had fired
by then (`process_instance.sla_breached`), so the report never reads workflow state or the audit."""

from __future__ import annotations

from ..bpmn.outcomes import RETURNED, Reached
from ..store.models import CaseDecision, ProcessInstance
from ..store.uow import Transaction


def record_decision(tx: Transaction, instance: ProcessInstance, reached: list[Reached]) -> CaseDecision | None:
    """The case's decision if this step decided it (helper: added to the session, not flushed)."""
    outcome = next((r.outcome for r in reached if r.outcome != RETURNED), None)
    if outcome is None and instance.status != "completed":
        return None
    if tx.session.get(CaseDecision, instance.id) is not None:
        return None
    now = tx.now()
    decision = CaseDecision(
        instance_id=instance.id,
        process_id=instance.process_id,
        office_code=instance.office_code,
        decided_at=now,
        hours=max(0.0, (now - instance.started_at).total_seconds() / 3600),
        breached=instance.sla_breached,
        outcome=outcome,
    )
    tx.session.add(decision)
    return decision
