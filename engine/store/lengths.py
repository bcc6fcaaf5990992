"""Text longer than its column is refused before it reaches the database. SQLite stores it whole and
PostgreSQL fails the statement (a DataError that used to surface as a traceback carrying the row's
values, a password hash among them), so the length a model declares is checked here, on every flush,
the same way on both: `InvalidData` naming each field and its limit, and nothing is written."""

from __future__ import annotations

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from ..errors import InvalidData


def too_long(instance: object) -> dict[str, str]:
    """Field -> message for each loaded text attribute of `instance` longer than its column allows."""
    state = inspect(instance)
    found = {}
    for attribute in state.mapper.column_attrs:
        column = attribute.columns[0]
        limit = getattr(column.type, "length", None) if isinstance(column.type, String) else None
        value = state.dict.get(attribute.key)  # only what is loaded: never a query inside a flush
        if limit and isinstance(value, str) and len(value) > limit:
            found[attribute.key] = f"Must be at most {limit} characters (it has {len(value)})."
    return found


def refuse_too_long(session: Session, _context, _instances) -> None:
    found = {}
    for instance in (*session.new, *session.dirty):
        for key, message in too_long(instance).items():
            found.setdefault(key, message)
    if found:
        raise InvalidData(f"too long for the database: {', '.join(sorted(found))}", found)


def guard(sessions: sessionmaker) -> None:
    event.listen(sessions, "before_flush", refuse_too_long)
