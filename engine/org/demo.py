"""The demo organisation of DESIGN section 7: one user per role and office where the role applies."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..store.models import Office, User
from ..store.uow import UnitOfWork
from . import offices as org
from .users import hash_password


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: str
    office: str


def demo_users() -> list[DemoUser]:
    """One user per role and office where the role applies: `<role>@<office>.demo`."""
    users = []
    for code, _name, kind, _parent, _tz in org.OFFICES:
        for role, scope in org.ROLES.items():
            if scope == kind:
                slug = role.lower().replace(" ", "-")
                users.append(DemoUser(f"{slug}@{code.lower()}.demo", f"{role} ({code})", role, code))
    return users


def load_demo(uow: UnitOfWork, password: str) -> int:
    """The catalogue's offices and roles and the demo users; idempotent. Returns users created."""
    with uow as tx:
        session = tx.session
        org.ensure_catalogue(session)
        created = 0
        existing = set(session.scalars(select(User.email)))
        password_hash = hash_password(password)  # one salted hash for the shared demo password
        for demo in demo_users():
            if demo.email in existing:
                continue
            office = session.get(Office, demo.office)
            user = User(
                email=demo.email,
                name=demo.name,
                language="en",
                timezone=office.timezone,
                password_hash=password_hash,
                created_at=tx.now(),
            )
            session.add(user)
            org.add_membership(session, user, demo.role, demo.office)
            created += 1
        tx.commit()
        return created
