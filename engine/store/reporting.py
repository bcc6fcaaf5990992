"""The facts the SLA report reads, kept as the cases move so that a report reads one indexed range
of a period however long the history grows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base


class CaseDecision(Base):
    """When a case was decided (its first outcome other than a return, or its end), how many hours
    after it started, and whether its SLA was breached by then: written once by the step that
    decides (engine.runtime.decisions), so the SLA report reads one indexed range per period."""

    __tablename__ = "case_decision"
    __table_args__ = (Index("ix_case_decision_decided", "decided_at"),)

    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200))
    office_code: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime]
    hours: Mapped[float]
    breached: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str | None] = mapped_column(String(32))
