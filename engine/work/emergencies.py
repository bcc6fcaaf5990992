"""Emergencies: declared by the regional office (its Emergency Focal Point or Regional Director, or
an Admin) for one of its country offices, seen by whoever sees that office, their level and status
changed with the history kept (emergency_event). The cases of the response belong to one; a case
started for it reads its level, crisis type and onset date from it instead of asking again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from ..errors import InvalidData, NotFound, PermissionDenied
from ..org import offices as org
from ..runtime import references
from ..store.models import Emergency, EmergencyEvent, HumanTask, Office, ProcessInstance, User
from ..store.uow import Transaction, UnitOfWork


class Level(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


class EmergencyStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"


# The crisis types of the start forms' `crisis_type` (tests/engine/work/test_emergencies.py checks).
CRISIS_TYPES = (
    "hurricane_tropical_storm",
    "flood",
    "earthquake",
    "volcanic",
    "drought",
    "mixed_migration_flow",
    "conflict_violence",
    "epidemic",
    "other",
)
DECLARERS = ("Emergency Focal Point", "Regional Director")  # held in the office's regional office
MAX_NAME = 200
MAX_NOTE = 2000


@dataclass(frozen=True)
class EmergencyEventView:
    kind: str  # declared, level, closed, reopened
    level: str | None
    previous_level: str | None
    note: str | None
    actor_name: str | None
    at: datetime


@dataclass(frozen=True)
class EmergencyCase:
    """A case of the emergency, with its state: its status and the steps open now."""

    id: int
    reference: str | None
    title: str
    process_id: str
    process_name: str
    status: str
    sla_breached: bool
    started_at: datetime
    open_steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmergencyView:
    id: int
    reference: str
    office: str
    name: str
    crisis_type: str
    level: str
    onset_date: date
    status: str
    declared_by_id: int | None
    created_at: datetime
    updated_at: datetime
    cases: tuple[EmergencyCase, ...] = ()
    events: tuple[EmergencyEventView, ...] = ()
    may_change: bool = False  # the actor may change its level and status

    @classmethod
    def of(cls, row: Emergency, **extra) -> "EmergencyView":
        return cls(
            row.id,
            row.reference,
            row.office_code,
            row.name,
            row.crisis_type,
            row.level,
            row.onset_date,
            row.status,
            row.declared_by_id,
            row.created_at,
            row.updated_at,
            **extra,
        )

    @property
    def label(self) -> str:
        return f"{self.reference} {self.name} ({self.level})"

    def cases_by_process(self) -> list[tuple[str, list[EmergencyCase]]]:
        """Its cases grouped by process (by name), each group in the order they were started."""
        groups: dict[str, list[EmergencyCase]] = {}
        for case in self.cases:
            groups.setdefault(case.process_name, []).append(case)
        return sorted(groups.items())


@dataclass(frozen=True)
class EmergencyList:
    """The /emergencies page: the emergencies the actor sees, and the offices they may declare for."""

    emergencies: list[EmergencyView]
    may_declare_for: tuple[str, ...] = field(default_factory=tuple)


# --- services ------------------------------------------------------------------------------------


def declare_emergency(
    uow: UnitOfWork,
    actor_id: int,
    office_code: str,
    *,
    name: str,
    crisis_type: str,
    level: str,
    onset_date: date | str,
    note: str | None = None,
) -> EmergencyView:
    """A new active emergency for a country office, with its reference (EM-HTI-2026-0001)."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        office = tx.session.get(Office, office_code) if isinstance(office_code, str) else None
        if office is None or not actor.sees_office(office.code):
            raise NotFound(f"no office {office_code!r} that you work for")
        if office.kind != "country":
            raise InvalidData("emergencies are declared for a country office", {"office": "Choose a country office."})
        if not may_declare(tx, actor, office.code):
            raise PermissionDenied(f"only the regional office declares an emergency for {office.code}")
        facts = _checked(tx, name=name, crisis_type=crisis_type, level=level, onset_date=onset_date, note=note)
        now = tx.now()
        row = Emergency(
            reference=references.next_reference(tx, references.EMERGENCY, office.code, now.year),
            office_code=office.code,
            name=facts["name"],
            crisis_type=facts["crisis_type"],
            level=facts["level"],
            onset_date=facts["onset_date"],
            status=EmergencyStatus.ACTIVE.value,
            declared_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        tx.session.add(row)
        tx.session.flush()
        _event(tx, row, "declared", actor.id, level=row.level, note=facts["note"])
        view = _full_view(tx, actor, row)
        tx.commit()
        return view


def change_emergency(
    uow: UnitOfWork,
    actor_id: int,
    emergency_id: int,
    *,
    level: str | None = None,
    status: str | None = None,
    note: str | None = None,
) -> EmergencyView:
    """Change the level and/or the status (active, closed): each change an event of its history."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        row = _visible(tx, actor, emergency_id, lock=True)
        if not may_declare(tx, actor, row.office_code):
            raise PermissionDenied("only the regional office changes an emergency")
        fields: dict[str, str] = {}
        if level is None and status is None:
            raise InvalidData("nothing to change", {"level": "Give a new level or a new status."})
        if level is not None and level not in set(Level):
            fields["level"] = "Choose one of: L1, L2, L3."
        if status is not None and status not in set(EmergencyStatus):
            fields["status"] = "Choose one of: active, closed."
        note = _note(note, fields)
        if fields:
            raise InvalidData("the change has errors", fields)
        if level is not None and level != row.level:
            _event(tx, row, "level", actor.id, level=level, previous_level=row.level, note=note)
            row.level = level
        if status is not None and status != row.status:
            _event(tx, row, "closed" if status == "closed" else "reopened", actor.id, level=row.level, note=note)
            row.status = status
        row.updated_at = tx.now()
        view = _full_view(tx, actor, row)
        tx.commit()
        return view


def emergency_list(
    uow: UnitOfWork, actor_id: int, *, office: str | None = None, status: str | None = None
) -> EmergencyList:
    """The emergencies of the offices the actor sees (newest first), narrowed by office and status."""
    if status is not None and status not in set(EmergencyStatus):
        raise InvalidData("unknown status", {"status": "Choose one of: active, closed."})
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        query = select(Emergency).order_by(Emergency.created_at.desc(), Emergency.id.desc())
        if not actor.all_offices:
            query = query.where(Emergency.office_code.in_(sorted(actor.visible_offices)))
        if office:
            query = query.where(Emergency.office_code == office)
        if status:
            query = query.where(Emergency.status == status)
        rows = tx.session.scalars(query.limit(500)).all()
        countries = tx.session.scalars(select(Office.code).where(Office.kind == "country").order_by(Office.code))
        declares = tuple(code for code in countries if actor.sees_office(code) and may_declare(tx, actor, code))
        return EmergencyList([EmergencyView.of(row) for row in rows], declares)


def get_emergency(uow: UnitOfWork, actor_id: int, emergency_id: int) -> EmergencyView:
    """One emergency with its cases (those the actor sees) and its timeline."""
    with uow as tx:
        actor = org.load_actor(tx.session, actor_id)
        return _full_view(tx, actor, _visible(tx, actor, emergency_id))


# --- helpers inside an open unit of work ---------------------------------------------------------


def may_declare(tx: Transaction, actor: org.Actor, office_code: str) -> bool:
    """An Admin, or an Emergency Focal Point or Regional Director of the office's regional office."""
    if actor.has_role("Admin"):
        return True
    return any(actor.holds(role, org.candidate_office(tx.session, role, office_code)) for role in DECLARERS)


def active_emergencies(tx: Transaction, offices: list[str] | tuple[str, ...]) -> list[EmergencyView]:
    """The active emergencies of these offices, newest first: what a start form offers."""
    if not offices:
        return []
    rows = tx.session.scalars(
        select(Emergency)
        .where(Emergency.office_code.in_(list(offices)), Emergency.status == EmergencyStatus.ACTIVE.value)
        .order_by(Emergency.created_at.desc(), Emergency.id.desc())
    ).all()
    return [EmergencyView.of(row) for row in rows]


def _visible(tx: Transaction, actor: org.Actor, emergency_id: int, *, lock: bool = False) -> Emergency:
    query = select(Emergency).where(Emergency.id == emergency_id)
    row = tx.session.scalar(query.with_for_update() if lock else query)
    if row is None or not actor.sees_office(row.office_code):
        raise NotFound(f"no emergency {emergency_id}")
    return row


def _full_view(tx: Transaction, actor: org.Actor, row: Emergency) -> EmergencyView:
    session = tx.session
    session.flush()
    events = session.execute(
        select(EmergencyEvent, User.name)
        .outerjoin(User, User.id == EmergencyEvent.actor_id)
        .where(EmergencyEvent.emergency_id == row.id)
        .order_by(EmergencyEvent.at, EmergencyEvent.id)
    ).all()
    instances = session.scalars(
        select(ProcessInstance)
        .where(ProcessInstance.emergency_id == row.id)
        .order_by(ProcessInstance.started_at, ProcessInstance.id)
    ).all()
    open_steps: dict[int, list[str]] = {}
    if instances:
        for instance_id, title in session.execute(
            select(HumanTask.instance_id, HumanTask.title)
            .where(HumanTask.instance_id.in_([i.id for i in instances]), HumanTask.state == "open")
            .order_by(HumanTask.created_at, HumanTask.id)
        ):
            open_steps.setdefault(instance_id, []).append(title)
    cases = tuple(
        EmergencyCase(
            i.id,
            i.reference,
            i.title,
            i.process_id,
            i.process_version.name,
            i.status,
            i.sla_breached,
            i.started_at,
            tuple(open_steps.get(i.id, ())),
        )
        for i in instances
        if actor.sees_office(i.office_code)
    )
    timeline = tuple(EmergencyEventView(e.kind, e.level, e.previous_level, e.note, name, e.at) for e, name in events)
    return EmergencyView.of(row, cases=cases, events=timeline, may_change=may_declare(tx, actor, row.office_code))


def _event(tx: Transaction, row: Emergency, kind: str, actor_id: int, **values) -> None:
    tx.session.add(EmergencyEvent(emergency_id=row.id, kind=kind, actor_id=actor_id, at=tx.now(), **values))


def _checked(tx: Transaction, **given) -> dict[str, Any]:
    fields: dict[str, str] = {}
    name = given["name"].strip() if isinstance(given["name"], str) else ""
    if not name:
        fields["name"] = "This field is required."
    elif len(name) > MAX_NAME:
        fields["name"] = f"At most {MAX_NAME} characters."
    if given["crisis_type"] not in CRISIS_TYPES:
        fields["crisis_type"] = "Choose one of: " + ", ".join(CRISIS_TYPES) + "."
    if given["level"] not in set(Level):
        fields["level"] = "Choose one of: L1, L2, L3."
    onset = _date(given["onset_date"])
    if onset is None:
        fields["onset_date"] = "Must be a valid date."
    elif onset > tx.now().date():
        fields["onset_date"] = "The onset cannot be after today."
    note = _note(given.get("note"), fields)
    if fields:
        raise InvalidData("the emergency has errors", fields)
    return {
        "name": name,
        "crisis_type": given["crisis_type"],
        "level": given["level"],
        "onset_date": onset,
        "note": note,
    }


def _note(note: Any, fields: dict[str, str]) -> str | None:
    if note is None or (isinstance(note, str) and not note.strip()):
        return None
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        fields["note"] = f"At most {MAX_NOTE} characters of text."
        return None
    return note.strip()


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
