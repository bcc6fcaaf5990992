"""What the SLA report shows as it stands now, whatever the period: the breaches still open, the
MEFM advances not yet repaid and the CERF pipeline by stage. Each starts from the open human tasks
(a bounded set, however long the history), never from workflow state: an advance's amount and
expected repayment date are read from the answers its audit events recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from sqlalchemy import and_, exists, func, not_, or_, select

from ..org import offices as org
from ..store.models import AuditEvent, CaseDecision, HumanTask, ProcessInstance
from ..store.uow import Transaction
from .report_filter import ReportFilter

MEFM = "mefm_request"
REPAYMENT_STEP = "record_repayment"  # open while the advance is outstanding
AMOUNT_FIELDS = ("allocated_amount_usd", "approved_amount_usd", "requested_amount_usd")  # first found wins
REPAYMENT_DATE_FIELD = "expected_repayment_date"
CERF = "cerf_application"
MAX_LISTED = 200  # open breaches and advances listed at most (the counts are whole)


@dataclass(frozen=True)
class OpenBreach:
    instance_id: int
    reference: str | None
    title: str
    process_id: str
    office: str
    overdue_since: datetime | None  # the earliest due time an open step passed, if any
    escalated: bool  # an escalation fired and the case is not decided yet


@dataclass(frozen=True)
class Advance:
    instance_id: int
    reference: str | None
    title: str
    office: str
    amount_usd: float | None
    allocated_at: datetime  # when the repayment began to be awaited
    age_days: int
    expected_repayment: date | None
    repayment_passed: bool


@dataclass(frozen=True)
class Stage:
    title: str
    cases: int


@dataclass(frozen=True)
class Now:
    open_breaches: list[OpenBreach]
    advances: list[Advance]
    cerf_pipeline: list[Stage]

    @property
    def outstanding_usd(self) -> float:
        return sum(a.amount_usd or 0 for a in self.advances)


def read_now(tx: Transaction, actor: org.Actor, wanted: ReportFilter) -> Now:
    """The three lists, scoped to the actor's offices and the office and process asked for (helper)."""
    return Now(open_breaches(tx, actor, wanted), advances(tx, actor, wanted), cerf_pipeline(tx, actor, wanted))


def _scoped(actor: org.Actor, wanted: ReportFilter, office, process) -> list:
    conditions = []
    if not actor.all_offices:
        conditions.append(office.in_(sorted(actor.visible_offices)))
    if wanted.office:
        conditions.append(office == wanted.office)
    if wanted.process_id:
        conditions.append(process == wanted.process_id)
    return conditions


def open_breaches(tx: Transaction, actor: org.Actor, wanted: ReportFilter) -> list[OpenBreach]:
    """Running cases with an open step past its due time, or escalated and not decided yet."""
    instance, now = ProcessInstance, tx.now()
    task = HumanTask.__table__.alias()
    is_open = and_(task.c.instance_id == instance.id, task.c.state == "open")
    overdue_since = (
        select(func.min(task.c.due_at)).where(is_open, task.c.due_at <= now).correlate(instance).scalar_subquery()
    )
    undecided = not_(exists().where(CaseDecision.instance_id == instance.id))
    escalated = and_(instance.sla_breached.is_(True), undecided)
    with_open_steps = select(HumanTask.instance_id).where(HumanTask.state == "open")
    query = (
        select(
            instance.id,
            instance.reference,
            instance.title,
            instance.process_id,
            instance.office_code,
            overdue_since.label("since"),
            escalated.label("escalated"),
        )
        .where(
            instance.id.in_(with_open_steps),
            instance.status == "running",
            or_(exists().where(is_open, task.c.due_at <= now), escalated),
            *_scoped(actor, wanted, instance.office_code, instance.process_id),
        )
        .order_by(instance.id)
        .limit(MAX_LISTED)
    )
    return [
        OpenBreach(r.id, r.reference, r.title, r.process_id, r.office_code, _aware(r.since), bool(r.escalated))
        for r in tx.session.execute(query)
    ]


def advances(tx: Transaction, actor: org.Actor, wanted: ReportFilter) -> list[Advance]:
    """The MEFM advances allocated and not yet repaid: amount, age, expected repayment date passed."""
    if wanted.process_id and wanted.process_id != MEFM:
        return []
    instance, task = ProcessInstance, HumanTask
    query = (
        select(instance.id, instance.reference, instance.title, instance.office_code, task.created_at)
        .join(instance, instance.id == task.instance_id)
        .where(
            task.state == "open",
            task.process_id == MEFM,
            task.element_id == REPAYMENT_STEP,
            *_scoped(actor, wanted, task.office_code, task.process_id),
        )
        .order_by(task.created_at)
        .limit(MAX_LISTED)
    )
    rows = tx.session.execute(query).all()
    answers = _answers(tx, [r.id for r in rows])
    today = tx.now().date()
    found = []
    for r in rows:
        data = answers.get(r.id, {})
        amount = next((data[name] for name in AMOUNT_FIELDS if isinstance(data.get(name), int | float)), None)
        expected = _day(data.get(REPAYMENT_DATE_FIELD))
        allocated = _aware(r.created_at)
        age = (today - allocated.date()).days
        passed = expected is not None and expected < today
        found.append(Advance(r.id, r.reference, r.title, r.office_code, amount, allocated, age, expected, passed))
    return found


def _answers(tx: Transaction, instance_ids: list[int]) -> dict[int, dict]:
    """Each case's answers as its start and completed tasks recorded them, the latest kept."""
    if not instance_ids:
        return {}
    query = (
        select(AuditEvent.instance_id, AuditEvent.data)
        .where(AuditEvent.instance_id.in_(instance_ids), AuditEvent.kind.in_(("started", "completed_task")))
        .order_by(AuditEvent.instance_id, AuditEvent.id)
    )
    answers: dict[int, dict] = {}
    for instance_id, data in tx.session.execute(query):
        if isinstance(data, dict):
            answers.setdefault(instance_id, {}).update(data)
    return answers


def cerf_pipeline(tx: Transaction, actor: org.Actor, wanted: ReportFilter) -> list[Stage]:
    """The running CERF applications by the step they wait at (a case at two steps counts at each)."""
    if wanted.process_id and wanted.process_id != CERF:
        return []
    task = HumanTask
    cases = func.count(func.distinct(task.instance_id))
    query = (
        select(task.title, cases.label("cases"))
        .where(
            task.state == "open", task.process_id == CERF, *_scoped(actor, wanted, task.office_code, task.process_id)
        )
        .group_by(task.title)
        .order_by(cases.desc(), task.title)
    )
    return [Stage(title, count) for title, count in tx.session.execute(query)]


def _day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _aware(value: datetime | str | None) -> datetime | None:
    """A subquery's datetime comes back untyped on SQLite (text, no zone): as the UTC it is."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
