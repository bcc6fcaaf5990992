"""The organisation: which offices and roles exist, and who may see and act where.

Lanes are roles. A country-office role is held in the instance's own office, a regional role in
the regional office it answers to, a headquarters role at HQ, for every office.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidData, NotFound
from ..store.models import Membership, Office, Role, User

# Roles of DESIGN section 7 (= lane names), with the office level at which each is held.
ROLES: dict[str, str] = {
    "Project Developer": "country",
    "Resources Management": "country",
    "Chief of Mission": "country",
    "Emergency Focal Point": "regional",
    "Thematic Specialist": "regional",
    "Donor Relations": "regional",
    "Regional Director": "regional",
    "PRD": "hq",
    "MEFM Approver": "hq",
    "Finance": "hq",
    "Process Manager": "hq",
    "Admin": "hq",
}

# (code, name, kind, parent, IANA time zone)
OFFICES: list[tuple[str, str, str, str | None, str]] = [
    ("HQ", "Headquarters (Geneva)", "hq", None, "Europe/Zurich"),
    ("RO-AMERICAS", "Regional Office for the Americas (Panama)", "regional", None, "America/Panama"),
    ("HTI", "Haiti", "country", "RO-AMERICAS", "America/Port-au-Prince"),
    ("PAN", "Panama", "country", "RO-AMERICAS", "America/Panama"),
    ("GTM", "Guatemala", "country", "RO-AMERICAS", "America/Guatemala"),
    ("HND", "Honduras", "country", "RO-AMERICAS", "America/Tegucigalpa"),
    ("COL", "Colombia", "country", "RO-AMERICAS", "America/Bogota"),
    ("ECU", "Ecuador", "country", "RO-AMERICAS", "America/Guayaquil"),
]


@dataclass(frozen=True)
class Actor:
    """A user as the engine sees them in one unit of work: who, and which role where."""

    id: int
    email: str
    name: str
    memberships: frozenset[tuple[str, str]]  # (role name, office code)
    visible_offices: frozenset[str]
    all_offices: bool  # holds a headquarters membership: sees every office

    def holds(self, role: str | None, office: str | None) -> bool:
        return (role, office) in self.memberships

    def sees_office(self, office_code: str) -> bool:
        return self.all_offices or office_code in self.visible_offices

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.memberships)


def load_actor(session: Session, user_id: int) -> Actor:
    """The user with their memberships and the offices they see: one query, and one more only
    for a regional membership (its country offices)."""
    rows = session.execute(
        select(User.email, User.name, User.active, Membership.role_name, Membership.office_code, Office.kind)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Office, Office.code == Membership.office_code)
        .where(User.id == user_id)
    ).all()
    if not rows or not rows[0].active:
        raise NotFound(f"no active user {user_id}")
    held = [row for row in rows if row.role_name is not None]
    memberships = frozenset((row.role_name, row.office_code) for row in held)
    visible = {row.office_code for row in held}
    all_offices = any(row.kind == "hq" for row in held)
    regional = {row.office_code for row in held if row.kind == "regional"}
    if regional and not all_offices:
        visible.update(session.scalars(select(Office.code).where(Office.parent_code.in_(regional))))
    return Actor(user_id, rows[0].email, rows[0].name, memberships, frozenset(visible), all_offices)


class Organisation(Protocol):
    """What placing a role needs to know: the scope of a role, the kind and parent of an office,
    and which office is headquarters."""

    def role_scope(self, role: str) -> str | None: ...

    def office(self, code: str) -> tuple[str, str | None] | None:
        """(kind, parent office code), or None for an unknown office."""

    def headquarters(self) -> str | None: ...


def place_role(organisation: Organisation, role: str | None, office_code: str) -> str | None:
    """The office in which `role` must be held to act for an instance of `office_code`: a
    country-office role in the office itself, a regional role in its regional office, a
    headquarters role at headquarters."""
    scope = organisation.role_scope(role) if role else None
    office = organisation.office(office_code)
    if scope is None or office is None:
        return None
    kind, parent = office
    if scope == "country":
        return office_code
    if scope == "regional":
        return parent if kind == "country" and parent else office_code
    return organisation.headquarters()


class StoredOrganisation:
    """The organisation as the database holds it (roles and offices read once per unit of work)."""

    def __init__(self, session: Session):
        self.session = session

    def role_scope(self, role: str) -> str | None:
        row = self.session.get(Role, role)
        return row.scope if row is not None else None

    def office(self, code: str) -> tuple[str, str | None] | None:
        row = self.session.get(Office, code)
        return (row.kind, row.parent_code) if row is not None else None

    def headquarters(self) -> str | None:
        return headquarters_code(self.session)


class Catalogue:
    """The organisation of the catalogue above (ROLES, OFFICES), without a database: dry runs."""

    def role_scope(self, role: str) -> str | None:
        return ROLES.get(role)

    def office(self, code: str) -> tuple[str, str | None] | None:
        found = next(((kind, parent) for c, _, kind, parent, _ in OFFICES if c == code), None)
        return found

    def headquarters(self) -> str | None:
        return next((code for code, _, kind, _, _ in sorted(OFFICES) if kind == "hq"), None)


def candidate_office(session: Session, role_name: str | None, office_code: str) -> str | None:
    """The office in which `role_name` must be held to act for an instance of `office_code`."""
    return place_role(StoredOrganisation(session), role_name, office_code)


def holders(session: Session, role: str | None, office_code: str | None) -> list[User]:
    """The active users who hold `role` in `office_code`, by id."""
    if role is None or office_code is None:
        return []
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role_name == role, Membership.office_code == office_code, User.active.is_(True))
            .order_by(User.id)
        )
    )


def headquarters_code(session: Session) -> str | None:
    if "doeflow.hq" not in session.info:  # asked for every headquarters task of a unit of work
        session.info["doeflow.hq"] = session.scalar(
            select(Office.code).where(Office.kind == "hq").order_by(Office.code).limit(1)
        )
    return session.info["doeflow.hq"]


def known_roles(session: Session) -> set[str]:
    return set(session.scalars(select(Role.name)))


def ensure_catalogue(session: Session) -> None:
    """Insert the roles and offices of the catalogue that are missing (idempotent)."""
    for name, scope in ROLES.items():
        if session.get(Role, name) is None:
            session.add(Role(name=name, scope=scope))
    for code, name, kind, parent, tz in OFFICES:
        if session.get(Office, code) is None:
            session.add(Office(code=code, name=name, kind=kind, parent_code=parent, timezone=tz))
            session.flush()


def add_membership(session: Session, user: User, role: str, office_code: str) -> None:
    role_row = session.get(Role, role)
    office = session.get(Office, office_code)
    if role_row is None:
        raise InvalidData(f"unknown role {role!r}; known: {', '.join(sorted(known_roles(session)))}")
    if office is None:
        raise InvalidData(f"unknown office {office_code!r}")
    if office.kind != role_row.scope:
        raise InvalidData(f"role {role!r} is held in a {role_row.scope} office, not in {office_code} ({office.kind})")
    if not any(m.role_name == role and m.office_code == office_code for m in user.memberships):
        user.memberships.append(Membership(role_name=role, office_code=office_code))
