"""Text longer than its column is refused before it reaches the database. SQLite stores it whole and
PostgreSQL fails the statement (a DataError that used to surface as a traceback carrying the row's
values, a password hash among them), so the length a model declares is checked here, on every flush,
the same way on both: `InvalidData` naming each field and its limit, and nothing is written."""

from __future__ import annotations

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from ..errors import InvalidData


def too_long(instance: object, *, changed_only: bool = False) -> dict[str, str]:
    """Field -> message for each text attribute of `instance` longer than its column allows: every loaded
    one, or with `changed_only` those set since the last flush (a row stored long before, on SQLite, can
    still be changed in its other fields). Never a query inside a flush: unloaded values are not read."""
    state = inspect(instance)
    found = {}
    for attribute in state.mapper.column_attrs:
        column = attribute.columns[0]
        limit = getattr(column.type, "length", None) if isinstance(column.type, String) else None
        if not limit:
            continue
        if changed_only:
            values = state.attrs[attribute.key].history.added or ()
        else:
            values = (state.dict.get(attribute.key),)
        longest = max((len(v) for v in values if isinstance(v, str)), default=0)
        if longest > limit:
            found[attribute.key] = f"Must be at most {limit} characters (it has {longest})."
    return found


def refuse_too_long(session: Session, _context, _instances) -> None:
    found: dict[str, str] = {}
    checks = [(i, False) for i in session.new] + [(i, True) for i in session.dirty]
    for instance, changed_only in checks:
        for key, message in too_long(instance, changed_only=changed_only).items():
            found.setdefault(key, message)
    if found:
        raise InvalidData(f"too long for the database: {', '.join(sorted(found))}", found)


def guard(sessions: sessionmaker) -> None:
    event.listen(sessions, "before_flush", refuse_too_long)
