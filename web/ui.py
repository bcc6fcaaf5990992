"""What the staff pages share: the clock, a unit of work per request, SLA states, times and the
language (the mapping of errors to pages is web/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask, current_app
from flask_babel import format_timedelta, get_locale
from flask_babel import gettext as _

from engine import clock as clocks
from engine.store.uow import UnitOfWork

from . import database, i18n

SOON_AT_LEAST = timedelta(hours=4)  # a task is "due soon" in its last quarter, or its last 4 hours


def clock() -> clocks.Clock:
    return current_app.extensions.get("doeflow.clock", clocks.SYSTEM_CLOCK)


def uow(*, write: bool = True) -> UnitOfWork:
    return database(current_app).unit_of_work(clock(), write=write)


def now() -> datetime:
    return clock().now()


@dataclass(frozen=True)
class Sla:
    state: str  # "overdue", "soon", "ok", or "none" (no due time)
    text: str

    @property
    def css(self) -> str:
        return f"sla sla-{self.state}"


def sla(created_at: datetime, due_at: datetime | None, at: datetime | None = None) -> Sla:
    """The SLA state of a task at a glance: time left, due soon, overdue."""
    at = at or now()
    if due_at is None:
        return Sla("none", _("no deadline"))
    left = due_at - at
    if left <= timedelta(0):
        return Sla("overdue", _("overdue by %(time)s", time=format_timedelta(-left, threshold=3)))
    window = max(due_at - created_at, timedelta(0))
    state = "soon" if left <= max(SOON_AT_LEAST, window / 4) else "ok"
    return Sla(state, _("%(time)s left", time=format_timedelta(left, threshold=3)))


def waited(created_at: datetime, at: datetime | None = None) -> str:
    return format_timedelta((at or now()) - created_at, threshold=3)


def when(value: datetime | None, style: str = "medium") -> str:
    """An instant in the user's time zone, in the one date format of the page's language, with
    the zone beside it; `short` (rows, timelines) gives the zone as its UTC offset only."""
    return clocks.written_time(value, language(), i18n.select_timezone(), named=style != "short") if value else ""


def language() -> str:
    """The two-letter language of this request: the user's, else the browser's."""
    return str(get_locale() or "en")[:2]


def register(app: Flask) -> None:
    app.jinja_env.globals.update(sla=sla, waited=waited, when=when)
    app.context_processor(lambda: {"lang": language()})
