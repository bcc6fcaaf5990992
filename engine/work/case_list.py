"""The case list (/cases, GET /api/v1/instances, the exports): every case the user may see, filtered,
searched, sorted and paged. One query for the page and one for the count, whatever the page shows:
the SLA state, the next due time and the current holder come from correlated subqueries over the
open human tasks, the search from the `case_word` index (engine.runtime.search_words)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import and_, case, exists, func, literal, not_, or_, select, true

from ..definitions import versions as definitions
from ..org import offices as org
from ..runtime.references import REFERENCE
from ..runtime.search_words import words
from ..store.models import CaseWord, Emergency, HumanTask, Office, ProcessInstance, ProcessVersion, User
from ..store.uow import Transaction, UnitOfWork
from .case_filter import HOLDER_ME, CaseFilter, CaseSort, CaseStatus, SlaState

EXPORT_MAX_ROWS = 10_000  # an export holds at most this many cases, the list's first in its order
MAX_SEARCH_WORDS = 8
SOON_AT_LEAST = timedelta(hours=4)  # as the inbox: due soon in its last quarter, or its last 4 hours
UNIX_EPOCH_JULIAN_DAY = 2440587.5

Instance = ProcessInstance
TASKS = HumanTask.__table__  # aliased in Core: cheaper to build than ORM aliases, five per page
WORDS = CaseWord.__table__
COLUMNS = (
    Instance.id,
    Instance.reference,
    Instance.title,
    Instance.process_id,
    Instance.office_code,
    Instance.status,
    Instance.sla_breached,
    Instance.started_at,
    Instance.updated_at,
    Instance.completed_at,
    Instance.emergency_id,
)


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
            *COLUMNS,
            ProcessVersion.name,
            sla.state().label("sla"),
            next_due.label("next_due"),
            _holder().label("holder"),
            _open_steps().label("open_steps"),
            Emergency.reference.label("emergency_reference"),
            Emergency.name.label("emergency_name"),
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
            i.name,
            i.office_code,
            i.status,
            SlaState(i.sla),
            i.sla_breached,
            _utc(i.next_due),
            i.holder,
            i.open_steps or 0,
            i.started_at,
            i.updated_at,
            i.completed_at,
            i.emergency_id,
            f"{i.emergency_reference} {i.emergency_name}" if i.emergency_reference else None,
        )
        for i in tx.session.execute(query).all()
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
        task = TASKS.alias()
        overdue = exists().where(_open(task), task.c.due_at <= self.now)
        return or_(Instance.sla_breached.is_(True), overdue)

    def due_soon(self):
        task = TASKS.alias()
        left = self._seconds(task.c.due_at) - literal(self.now.timestamp())
        window = self._seconds(task.c.due_at) - self._seconds(task.c.created_at)
        soon = or_(left <= SOON_AT_LEAST.total_seconds(), left * 4 <= window)
        running = Instance.status == CaseStatus.RUNNING.value
        return and_(running, exists().where(_open(task), task.c.due_at > self.now, soon))

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
        task = TASKS.alias()
        return select(func.min(task.c.due_at)).where(_open(task)).correlate(Instance).scalar_subquery()


def _open(task):
    return and_(task.c.instance_id == Instance.id, task.c.state == "open")


def _holder():
    task = TASKS.alias()
    return (
        select(func.coalesce(User.name, task.c.candidate_role))
        .select_from(task)
        .outerjoin(User, User.id == task.c.assignee_id)
        .where(_open(task))
        .order_by(task.c.due_at.is_(None), task.c.due_at, task.c.created_at, task.c.id)
        .limit(1)
        .correlate(Instance)
        .scalar_subquery()
    )


def _open_steps():
    task = TASKS.alias()
    return select(func.count()).select_from(task).where(_open(task)).correlate(Instance).scalar_subquery()


def _conditions(actor: org.Actor, wanted: CaseFilter, sla: SlaTerms) -> list:
    conditions = [_visible(actor, bool(words(wanted.q)))]
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
    conditions += searched(wanted.q)
    return conditions


def searched(q: str) -> list:
    """A case's own reference is found by the unique index; words by `case_word`: the longest word
    (likely the rarest) gives the candidate ids, each other word is checked per candidate, so a
    common word beside a rare one does not read its whole list."""
    if REFERENCE.match(q.strip().upper()):
        return [Instance.reference == q.strip().upper()]
    terms = sorted(dict.fromkeys(words(q)), key=len, reverse=True)[:MAX_SEARCH_WORDS]
    if not terms:
        return []
    first, *others = terms
    found = select(CaseWord.instance_id).where(*_prefix(CaseWord.word, first))
    conditions = [Instance.id.in_(found)]
    for term in others:
        word = WORDS.alias()
        conditions.append(exists().where(word.c.instance_id == Instance.id, *_prefix(word.c.word, term)))
    return conditions


def _prefix(column, word: str) -> tuple:
    """The words that start with `word`: one range of an index, in byte order on both databases."""
    return column >= word, column < word[:-1] + chr(ord(word[-1]) + 1)


def _visible(actor: org.Actor, searching: bool):
    """The cases of the offices the actor works for (a regional role: the region; headquarters:
    all), and those they started, as engine.work.instances.visible_instance lets them open. With a
    search the found ids lead: `|| ''` and `+ 0` keep the planner off the office and starter indexes,
    which would read every case of the offices (SQLite has no statistics to know better)."""
    if actor.all_offices:
        return true()
    office, starter = Instance.office_code, Instance.started_by_id
    if searching:
        office, starter = office + "", starter + 0
    return or_(office.in_(sorted(actor.visible_offices)), starter == actor.id)


def _held_by(actor: org.Actor, holder: str):
    task = TASKS.alias()
    if holder == HOLDER_ME:
        return exists().where(_open(task), task.c.assignee_id == actor.id)
    if holder.isdigit():
        return exists().where(_open(task), task.c.assignee_id == int(holder))
    return exists().where(_open(task), task.c.candidate_role == holder)


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
