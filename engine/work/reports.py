"""The SLA and operations report (/reports, GET /api/v1/reports/sla): per process, office and month
the cases decided within their SLA and breached, the median and p90 hours to decision, and where
the time goes step by step, over a period; and, now, the breaches still open, the MEFM advances
outstanding and the CERF pipeline (engine.work.report_now). Regional and headquarters roles only,
over the offices they work for. The period's rows are read by one indexed range (`case_decision`
and `human_task.completed_at`), so the report stays flat however long the history grows; the
percentiles are PostgreSQL's percentile_cont, or on SQLite the same interpolation over the hours
of the filtered set, fetched in order."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from itertools import groupby

from sqlalchemy import case, func, select

from ..definitions import versions as definitions
from ..errors import PermissionDenied
from ..org import offices as org
from ..store.models import CaseDecision, HumanTask, Office
from ..store.uow import Transaction, UnitOfWork
from . import report_now
from .case_list import Choice
from .report_filter import ReportFilter

# Who reads the report: the regional roles and headquarters' (not the process managers, who edit
# diagrams); a country office's staff get a 403.
REPORT_ROLES = frozenset(role for role, scope in org.ROLES.items() if scope != "country" and role != "Process Manager")
UNIX_EPOCH_JULIAN_DAY = 2440587.5


@dataclass(frozen=True)
class SlaRow:
    process_id: str
    process_name: str
    office: str
    month: str  # YYYY-MM, of the decision (UTC)
    decided: int
    within_sla: int
    breached: int
    median_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True)
class StepRow:
    """A step (a task's title) of a process: how many were done in the period, median hours open."""

    process_id: str
    process_name: str
    title: str
    done: int
    median_hours: float | None


@dataclass(frozen=True)
class SlaReport:
    filter: ReportFilter  # resolved: the period always set
    rows: list[SlaRow]
    steps: list[StepRow]
    now: report_now.Now
    processes: list[Choice]
    offices: list[Choice]

    @property
    def totals(self) -> tuple[int, int, int]:
        """Decided, within their SLA, breached, over every row."""
        return (
            sum(r.decided for r in self.rows),
            sum(r.within_sla for r in self.rows),
            sum(r.breached for r in self.rows),
        )


def may_read_reports(actor: org.Actor) -> bool:
    return any(role in REPORT_ROLES for role, _ in actor.memberships)


def sla_report(uow: UnitOfWork, actor_id: int, wanted: ReportFilter) -> SlaReport:
    """The whole report page: the period's rows and steps, what stands now, the form's choices."""
    with uow as tx:
        actor = _reader(tx, actor_id)
        wanted = wanted.resolved(tx.now().date())
        names = _process_names(tx)
        rows = decided_rows(tx, actor, wanted, names)
        steps = step_rows(tx, actor, wanted, names)
        now = report_now.read_now(tx, actor, wanted)
        return SlaReport(wanted, rows, steps, now, *_choices(tx, actor, names))


def sla_rows(uow: UnitOfWork, actor_id: int, wanted: ReportFilter) -> tuple[ReportFilter, list[SlaRow]]:
    """The per process, office and month rows only (the API's answer), with the period read."""
    with uow as tx:
        actor = _reader(tx, actor_id)
        wanted = wanted.resolved(tx.now().date())
        return wanted, decided_rows(tx, actor, wanted, _process_names(tx))


@dataclass(frozen=True)
class StepHeat:
    """Time spent at one step (a diagram element) across the cases of the period."""

    element_id: str
    done: int
    median_hours: float | None


def step_heat(uow: UnitOfWork, actor_id: int, process_id: str, wanted: ReportFilter) -> list[StepHeat]:
    """The heat overlay of a process's diagram: per element, how many of its steps were done in
    the period and their median hours open, over the offices the actor works for."""
    with uow as tx:
        actor = _reader(tx, actor_id)
        wanted = replace(wanted.resolved(tx.now().date()), process_id=process_id)
        return [
            StepHeat(element, done, median) for _, element, done, median in _step_hours(tx, actor, wanted, "element")
        ]


def _reader(tx: Transaction, actor_id: int) -> org.Actor:
    actor = org.load_actor(tx.session, actor_id)
    if not may_read_reports(actor):
        raise PermissionDenied("the SLA report is for regional and headquarters roles")
    return actor


def decided_rows(tx: Transaction, actor: org.Actor, wanted: ReportFilter, names: dict[str, str]) -> list[SlaRow]:
    """Per process, office and month of decision: decided, within SLA, breached, median, p90 (helper)."""
    decision = CaseDecision
    month = _month(tx, decision.decided_at).label("month")
    keys = (decision.process_id, decision.office_code, month)
    conditions = _within(actor, wanted, decision.decided_at, decision.office_code, decision.process_id)
    counts = [
        func.count().label("decided"),
        func.sum(case((decision.breached.is_(True), 0), else_=1)).label("within_sla"),
        func.sum(case((decision.breached.is_(True), 1), else_=0)).label("breached"),
    ]
    if _postgresql(tx):
        counts += [
            func.percentile_cont(0.5).within_group(decision.hours).label("median"),
            func.percentile_cont(0.9).within_group(decision.hours).label("p90"),
        ]
    query = select(*keys, *counts).where(*conditions).group_by(*keys).order_by(*keys)
    found = tx.session.execute(query).all()
    if _postgresql(tx):
        spread = {(r.process_id, r.office_code, r.month): (r.median, r.p90) for r in found}
    else:
        hours = select(*keys, decision.hours).where(*conditions).order_by(*keys, decision.hours)
        spread = {
            key: (percentile(values, 0.5), percentile(values, 0.9))
            for key, values in _grouped(tx.session.execute(hours).all(), 3)
        }
    return [
        SlaRow(
            r.process_id,
            names.get(r.process_id, r.process_id),
            r.office_code,
            r.month,
            r.decided,
            int(r.within_sla or 0),
            int(r.breached or 0),
            *(_rounded(value) for value in spread[(r.process_id, r.office_code, r.month)]),
        )
        for r in found
    ]


def step_rows(tx: Transaction, actor: org.Actor, wanted: ReportFilter, names: dict[str, str]) -> list[StepRow]:
    """Per process and step (a task's title) done in the period: how many, median hours open (helper)."""
    found = _step_hours(tx, actor, wanted, "title")
    rows = [StepRow(p, names.get(p, p), title, done, _rounded(median)) for p, title, done, median in found]
    return sorted(rows, key=lambda r: (r.process_name, -(r.median_hours or 0), r.title))


def _step_hours(tx: Transaction, actor: org.Actor, wanted: ReportFilter, by: str) -> list[tuple]:
    """(process, the step's title or element id, how many done, median hours open) in the period."""
    task = HumanTask
    hours = ((_seconds(tx, task.completed_at) - _seconds(tx, task.created_at)) / 3600.0).label("hours")
    keys = (task.process_id, task.title if by == "title" else task.element_id)
    # `|| ''` keeps the planner on the index of completed_at (the period), off the one led by state,
    # which would read every step ever done (SQLite has no statistics to know better).
    conditions = [
        task.state + "" == "completed",
        *_within(actor, wanted, task.completed_at, task.office_code, task.process_id),
    ]
    if _postgresql(tx):
        median = func.percentile_cont(0.5).within_group(hours)
        query = select(*keys, func.count(), median).where(*conditions).group_by(*keys)
        return [(p, step, done, _rounded(m)) for p, step, done, m in tx.session.execute(query)]
    query = select(*keys, hours).where(*conditions).order_by(*keys, hours)
    grouped = _grouped(tx.session.execute(query), 2)
    return [(*key, len(values), _rounded(percentile(values, 0.5))) for key, values in grouped]


def percentile(ordered: list[float], fraction: float) -> float | None:
    """The value at `fraction` of the sorted values, interpolated between the two nearest, as
    PostgreSQL's percentile_cont gives it."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _within(actor: org.Actor, wanted: ReportFilter, at, office, process) -> list:
    """The period's range of `at` (UTC days, both included), the office and process asked for, and
    the offices the actor works for."""
    start = datetime.combine(wanted.date_from, time(0), tzinfo=timezone.utc)
    end = datetime.combine(wanted.date_to, time(0), tzinfo=timezone.utc) + timedelta(days=1)
    conditions = [at >= start, at < end]
    if not actor.all_offices:
        conditions.append(office.in_(sorted(actor.visible_offices)))
    if wanted.office:
        conditions.append(office == wanted.office)
    if wanted.process_id:
        conditions.append(process == wanted.process_id)
    return conditions


def _grouped(rows: Iterable, width: int):
    for key, group in groupby(rows, key=lambda row: tuple(row[:width])):
        yield key, [float(row[width]) for row in group]


def _postgresql(tx: Transaction) -> bool:
    return tx.session.bind.dialect.name == "postgresql"


def _month(tx: Transaction, column):
    if _postgresql(tx):
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _seconds(tx: Transaction, column):
    if _postgresql(tx):
        return func.extract("epoch", column)
    return (func.julianday(column) - UNIX_EPOCH_JULIAN_DAY) * 86400.0


def _rounded(value) -> float | None:
    return None if value is None else round(float(value), 1)


def _process_names(tx: Transaction) -> dict[str, str]:
    return {v.process_id: v.name for v in definitions.latest_versions(tx)}


def _choices(tx: Transaction, actor: org.Actor, names: dict[str, str]) -> tuple[list[Choice], list[Choice]]:
    processes = sorted((Choice(pid, name) for pid, name in names.items()), key=lambda c: c.label)
    query = select(Office.code, Office.name).order_by(Office.code)
    if not actor.all_offices:
        query = query.where(Office.code.in_(sorted(actor.visible_offices)))
    return processes, [Choice(code, name) for code, name in tx.session.execute(query)]
