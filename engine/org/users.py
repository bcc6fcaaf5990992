"""Users, their memberships, passwords and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import Conflict, InvalidData, NotFound
from ..store.models import ApiToken, Office, User
from ..store.uow import UnitOfWork
from . import offices as org

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def add_user(
    uow: UnitOfWork,
    email: str,
    *,
    name: str,
    office: str,
    roles: list[str],
    password: str | None = None,
    language: str = "en",
) -> int:
    """Create a user holding `roles` in `office`; returns the new user's id."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise InvalidData("invalid email", {"email": "Must be an email address."})
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidData("password too short", {"password": f"Must be at least {MIN_PASSWORD} characters."})
    with uow as tx:
        session = tx.session
        if session.scalar(select(User.id).where(User.email == email)) is not None:
            raise Conflict(f"a user {email} already exists")
        office_row = session.get(Office, office)
        user = User(
            email=email,
            name=name.strip() or email,
            language=language,
            timezone=office_row.timezone if office_row else "UTC",
            password_hash=hash_password(password) if password else None,
            created_at=tx.now(),
        )
        session.add(user)
        for role in roles:
            org.add_membership(session, user, role, office)
        session.flush()
        user_id = user.id
        tx.commit()
        return user_id


def issue_token(uow: UnitOfWork, email: str) -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    token = "dfw_" + secrets.token_urlsafe(32)
    with uow as tx:
        user = tx.session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise NotFound(f"no user {email}")
        tx.session.add(ApiToken(user_id=user.id, token_hash=token_hash(token), created_at=tx.now()))
        tx.commit()
    return token


def token_hash(token: str) -> str:
    # Tokens are 256 random bits, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(uow: UnitOfWork, token: str) -> int | None:
    with uow as tx:
        row = tx.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(token)))
        if row is None:
            return None
        user = tx.session.get(User, row.user_id)
        return user.id if user is not None and user.active else None


def authenticate(uow: UnitOfWork, email: str, password: str) -> int | None:
    """The user's id if the password is right; None otherwise, in the same time either way."""
    with uow as tx:
        return check_password(tx, email, password)


def check_password(tx, email: str, password: str) -> int | None:
    """`authenticate` inside the caller's unit of work."""
    user = tx.session.scalar(select(User).where(User.email == email.strip().lower()))
    stored = user.password_hash if user is not None and user.active else None
    ok = check_password_hash(stored or _DUMMY_HASH, password)
    return user.id if ok and stored else None


_DUMMY_HASH = hash_password(secrets.token_hex(16))


@dataclass(frozen=True)
class Profile:
    """Who is signed in, as the web layer needs them on every request."""

    id: int
    email: str
    name: str
    language: str
    timezone: str
    memberships: tuple[tuple[str, str], ...]  # (role, office), sorted

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.memberships)


def profile(uow: UnitOfWork, user_id: int) -> Profile | None:
    """An active user's profile, or None (unknown or deactivated)."""
    with uow as tx:
        return profile_in(tx, user_id)


def profile_in(tx, user_id: int) -> Profile | None:
    """`profile` inside the caller's unit of work."""
    user = tx.session.get(User, user_id)
    if user is None or not user.active:
        return None
    memberships = tuple(sorted((m.role_name, m.office_code) for m in user.memberships))
    return Profile(user.id, user.email, user.name, user.language, user.timezone, memberships)


LANGUAGES = ("en", "es")


def set_language(uow: UnitOfWork, user_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise InvalidData("unknown language", {"language": f"Choose one of: {', '.join(LANGUAGES)}."})
    with uow as tx:
        user = tx.session.get(User, user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        user.language = language
        tx.commit()
