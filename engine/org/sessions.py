"""Browser sessions: signing in opens one, signing out ends it. The signed cookie the web layer
sends holds only the session's random key; the database keeps its SHA-256 and whether it has
ended, so a cookie copied before sign-out (or before a deactivation) signs nobody in after it.
Flask's cookie alone could not say so: it stays valid, signed, until it expires."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from ..store.models import UserSession
from ..store.uow import UnitOfWork
from . import users

KEY_CHARS = 64  # at most; a key is token_urlsafe(32), 43 characters


@dataclass(frozen=True)
class SignIn:
    key: str  # for the cookie; shown nowhere else
    profile: users.Profile


def open_session(uow: UnitOfWork, email: str, password: str) -> SignIn | None:
    """Check the password and, if it is right, open a session: one unit of work. None for a wrong
    password, an unknown email or a deactivated user, in the same time each way."""
    with uow as tx:
        user_id = users.check_password(tx, email, password)
        if user_id is None:
            return None
        key = secrets.token_urlsafe(32)
        tx.session.add(UserSession(user_id=user_id, key_hash=users.token_hash(key), created_at=tx.now()))
        found = users.profile_in(tx, user_id)
        tx.commit()
        return SignIn(key, found)


def profile(uow: UnitOfWork, key: str) -> users.Profile | None:
    """The profile of the user whose open session has this key; None if the key is unknown, its
    session ended, or the user was deactivated."""
    if not key or len(key) > KEY_CHARS:
        return None
    with uow as tx:
        open_with_key = (UserSession.key_hash == users.token_hash(key), UserSession.ended_at.is_(None))
        user_id = tx.session.scalar(select(UserSession.user_id).where(*open_with_key))
        return users.profile_in(tx, user_id) if user_id is not None else None


def end(uow: UnitOfWork, key: str) -> None:
    """Sign-out: the session of this key ends (nothing happens for an unknown or ended one)."""
    with uow as tx:
        tx.session.execute(
            update(UserSession)
            .where(UserSession.key_hash == users.token_hash(key), UserSession.ended_at.is_(None))
            .values(ended_at=tx.now())
        )
        tx.commit()
