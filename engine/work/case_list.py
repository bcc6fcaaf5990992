"""The case list (/cases, GET /api/v1/instances, the exports): every case the user may see, filtered,
searched, sorted and paged. One query for the page and one for the count, whatever the page shows:
the SLA state, the next due time and the current holder come from correlated subqueries over the
open human tasks, the search from the `case_word` index (engine.runtime.search_words)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import and_, case, exists, func, literal, not_, or_, select, true
from sqlalchemy.orm import aliased

from ..definitions import versions as definitions
from ..org import offices as org
from ..runtime.search_words import words
from ..store.models import CaseWord, Emergency, HumanTask, Office, ProcessInstance, ProcessVersion, User
from ..store.uow import Transaction, UnitOfWork
from .case_filter import HOLDER_ME, CaseFilter, CaseSort, CaseStatus, SlaState

EXPORT_MAX_ROWS = 10_000  # an export holds at most this many cases, the list's first in its order
MAX_SEARCH_WORDS = 8
SOON_AT_LEAST = timedelta(hours=4)  # as the inbox: due soon in its last quarter, or its last 4 hours
UNIX_EPOCH_JULIAN_DAY = 2440587.5

Instance = ProcessInstance


@dataclass(frozen=True)
class CaseRow:
    id: int
    reference: str | None
    title: str
    process_id: str
    process_name: str
    office: str
    status: str
    sla: SlaState
    sla_breached: bool
    next_due_at: datetime | None
    holder: str | None  # the assignee's name, else the role, of the soonest due open step
    open_steps: int
    started_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    emergency_id: int | None
    emergency: str | None  # its reference and name


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class CaseList:
    filter: CaseFilter
    rows: list[CaseRow]
    total: int
    processes: list[Choice]  # what the filter form offers
    offices: list[Choice]
    emergencies: list[Choice]
    roles: list[str]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.filter.per_page))


def case_list(uow: UnitOfWork, actor_id: int, wanted: CaseFilter) -> CaseList:
    """The page of cases the filter asks for, its total, and the filter form's choices."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        rows, total = listed(tx, actor, wanted)
        return CaseList(wanted, rows, total, *_choices(tx, actor))


def case_export(uow: UnitOfWork, actor_id: int, wanted: CaseFilter) -> CaseList:
    """The whole filtered list for an export, at most EXPORT_MAX_ROWS cases (the total says how many
    there are), without the form's choices."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        whole = replace(wanted, page=1, per_page=EXPORT_MAX_ROWS)
        rows, total = listed(tx, actor, whole)
        return CaseList(whole, rows, total, [], [], [], [])


def listed(tx: Transaction, actor: org.Actor, wanted: CaseFilter) -> tuple[list[CaseRow], int]:
    """The filter's page of rows and how many cases match (helper: two queries)."""
    sla = SlaTerms(tx, tx.now())
    conditions = _conditions(actor, wanted, sla)
    total = tx.session.scalar(select(func.count()).select_from(Instance).where(*conditions))
    if not total or (wanted.page - 1) * wanted.per_page >= total:
        return [], total or 0
    next_due = sla.next_due()
    query = (
        select(
            Instance,
            ProcessVersion.name,
            sla.state(),
            next_due,
            _holder(),
            _open_steps(),
            Emergency.reference,
            Emergency.name,
        )
        .join(ProcessVersion, ProcessVersion.id == Instance.process_version_id)
        .outerjoin(Emergency, Emergency.id == Instance.emergency_id)
        .where(*conditions)
        .order_by(*_order(wanted.sort, next_due))
        .offset((wanted.page - 1) * wanted.per_page)
        .limit(wanted.per_page)
    )
    rows = [
        CaseRow(
            i.id,
            i.reference,
            i.title,
            i.process_id,
            process_name,
            i.office_code,
            i.status,
            SlaState(state),
            i.sla_breached,
            _utc(due),
            holder,
            steps or 0,
            i.started_at,
            i.updated_at,
            i.completed_at,
            i.emergency_id,
            f"{reference} {name}" if reference else None,
        )
        for i, process_name, state, due, holder, steps, reference, name in tx.session.execute(query).all()
    ]
    return rows, total


class SlaTerms:
    """The SLA state of a case in SQL, as engine.work.case_filter.SlaState says it, at `now`."""

    def __init__(self, tx: Transaction, now: datetime):
        self.now = now
        self.postgresql = tx.session.bind.dialect.name == "postgresql"

    def _seconds(self, column):
        if self.postgresql:
            return func.extract("epoch", column)
        return (func.julianday(column) - UNIX_EPOCH_JULIAN_DAY) * 86400.0

    def breached(self):
        task = aliased(HumanTask)
        overdue = exists().where(_open(task), task.due_at <= self.now)
        return or_(Instance.sla_breached.is_(True), overdue)

    def due_soon(self):
        task = aliased(HumanTask)
        left = self._seconds(task.due_at) - literal(self.now.timestamp())
        window = self._seconds(task.due_at) - self._seconds(task.created_at)
        soon = or_(left <= SOON_AT_LEAST.total_seconds(), left * 4 <= window)
        running = Instance.status == CaseStatus.RUNNING.value
        return and_(running, exists().where(_open(task), task.due_at > self.now, soon))

    def state(self):
        return case(
            (self.breached(), SlaState.BREACHED.value),
            (self.due_soon(), SlaState.DUE_SOON.value),
            else_=SlaState.ON_TIME.value,
        )

    def matching(self, wanted: SlaState):
        if wanted == SlaState.BREACHED:
            return self.breached()
        if wanted == SlaState.DUE_SOON:
            return and_(not_(self.breached()), self.due_soon())
        return and_(not_(self.breached()), not_(self.due_soon()))

    def next_due(self):
        task = aliased(HumanTask)
        return select(func.min(task.due_at)).where(_open(task)).correlate(Instance).scalar_subquery()


def _open(task):
    return and_(task.instance_id == Instance.id, task.state == "open")


def _holder():
    task = aliased(HumanTask)
    return (
        select(func.coalesce(User.name, task.candidate_role))
        .select_from(task)
        .outerjoin(User, User.id == task.assignee_id)
        .where(_open(task))
        .order_by(task.due_at.is_(None), task.due_at, task.created_at, task.id)
        .limit(1)
        .correlate(Instance)
        .scalar_subquery()
    )


def _open_steps():
    task = aliased(HumanTask)
    return select(func.count()).select_from(task).where(_open(task)).correlate(Instance).scalar_subquery()


def _conditions(actor: org.Actor, wanted: CaseFilter, sla: SlaTerms) -> list:
    conditions = [_visible(actor)]
    if wanted.emergency_id is not None:
        conditions.append(Instance.emergency_id == wanted.emergency_id)
    if wanted.process_id:
        conditions.append(Instance.process_id == wanted.process_id)
    if wanted.office:
        conditions.append(Instance.office_code == wanted.office)
    if wanted.status:
        conditions.append(Instance.status == wanted.status.value)
    if wanted.sla:
        conditions.append(sla.matching(wanted.sla))
    if wanted.holder:
        conditions.append(_held_by(actor, wanted.holder))
    if wanted.started_from:
        conditions.append(Instance.started_at >= _midnight(wanted.started_from))
    if wanted.started_to:
        conditions.append(Instance.started_at < _midnight(wanted.started_to) + timedelta(days=1))
    if wanted.started_by_me:
        conditions.append(Instance.started_by_id == actor.id)
    if wanted.done_by_me:
        done = select(HumanTask.instance_id).where(
            HumanTask.assignee_id == actor.id, HumanTask.state == "completed", HumanTask.completed_by_id == actor.id
        )
        conditions.append(Instance.id.in_(done))
    for word in words(wanted.q)[:MAX_SEARCH_WORDS]:
        # A word prefix is one range of the index's primary key (byte order on both databases).
        after = word[:-1] + chr(ord(word[-1]) + 1)
        found = select(CaseWord.instance_id).where(CaseWord.word >= word, CaseWord.word < after)
        conditions.append(Instance.id.in_(found))
    return conditions


def _visible(actor: org.Actor):
    """The cases of the offices the actor works for (a regional role: the region; headquarters:
    all), and those they started, as engine.work.instances.visible_instance lets them open."""
    if actor.all_offices:
        return true()
    return or_(Instance.office_code.in_(sorted(actor.visible_offices)), Instance.started_by_id == actor.id)


def _held_by(actor: org.Actor, holder: str):
    task = aliased(HumanTask)
    if holder == HOLDER_ME:
        return exists().where(_open(task), task.assignee_id == actor.id)
    if holder.isdigit():
        return exists().where(_open(task), task.assignee_id == int(holder))
    return exists().where(_open(task), task.candidate_role == holder)


def _order(sort: CaseSort, next_due) -> tuple:
    if sort == CaseSort.DUE:
        return (next_due.is_(None), next_due, Instance.id.desc())
    if sort == CaseSort.CHANGED:
        return (Instance.updated_at.desc(), Instance.id.desc())
    return (Instance.started_at.desc(), Instance.id.desc())


def _midnight(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.utc)


def _utc(value: datetime | str | None) -> datetime | None:
    """A subquery's datetime comes back untyped on SQLite (text, no zone): as the UTC it is."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _choices(tx: Transaction, actor: org.Actor) -> tuple[list[Choice], list[Choice], list[Choice], list[str]]:
    session = tx.session
    processes = sorted((Choice(v.process_id, v.name) for v in definitions.latest_versions(tx)), key=lambda c: c.label)
    office_query = select(Office.code, Office.name).order_by(Office.code)
    emergency_query = select(Emergency.id, Emergency.reference, Emergency.name).order_by(Emergency.onset_date.desc())
    if not actor.all_offices:
        office_query = office_query.where(Office.code.in_(sorted(actor.visible_offices)))
        emergency_query = emergency_query.where(Emergency.office_code.in_(sorted(actor.visible_offices)))
    offices = [Choice(code, name) for code, name in session.execute(office_query)]
    emergencies = [Choice(str(id_), f"{ref} {name}") for id_, ref, name in session.execute(emergency_query)]
    roles = [role for role in org.ROLES if role not in ("Admin", "Process Manager")]
    return processes, offices, emergencies, roles
