"""The organisation: which offices and roles exist, and who may see and act where.

Lanes are roles. A country-office role is held in the instance's own office, a regional role in
the regional office it answers to, a headquarters role at HQ, for every office.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import InvalidData, NotFound
from .models import Membership, Office, Role, User

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


def candidate_office(session: Session, role_name: str | None, office: Office) -> str | None:
    """The office in which `role_name` must be held to act for an instance of `office`."""
    if role_name is None:
        return None
    role = session.get(Role, role_name)
    if role is None:
        return None
    if role.scope == "country":
        return office.code
    if role.scope == "regional":
        return office.regional_code
    return headquarters_code(session)


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
