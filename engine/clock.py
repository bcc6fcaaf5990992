"""The one injectable clock, shared by the engine and SpiffWorkflow's timers; and the one way a day
or an instant is written for a person, per language, for the pages and the emails alike.

SpiffWorkflow reads time only through `datetime.now(timezone.utc)` in its timer module; that name is
pointed at a subclass whose `now()` asks the clock of the running unit of work.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import date, datetime, timedelta, timezone
from typing import Iterator, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _spiff_timer


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that moves only when told: tests and `timers tick --at`."""

    def __init__(self, at: datetime):
        self._at = _aware(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = _aware(at)

    def advance(self, **delta: float) -> datetime:
        self._at += timedelta(**delta)
        return self._at


class TravelledClock(FixedClock):
    """Time travel (`timers tick --at`): the cases live at the given instant (their timers, due
    dates and timeline), the world at the real one. What leaves the engine for people, an email, is
    due at the real now (`real_now`), so the outbox, which runs on the real clock, sends what a
    simulated 48 hours caused at once instead of when the real clock gets there."""

    def __init__(self, at: datetime, real: Clock | None = None):
        super().__init__(at)
        self.real = real or SYSTEM_CLOCK


def real_now(clock: Clock) -> datetime:
    """The instant in the world under `clock`: its own now, unless it travels in time."""
    return clock.real.now() if isinstance(clock, TravelledClock) else clock.now()


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("clock instants must be timezone-aware")
    return at.astimezone(timezone.utc)


SYSTEM_CLOCK = SystemClock()
_current: ContextVar[Clock] = ContextVar("doeflow_clock", default=SYSTEM_CLOCK)


@contextlib.contextmanager
def using(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the time source for SpiffWorkflow inside the block (per thread/context)."""
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class _ClockedDatetime(datetime):
    @classmethod
    def now(cls, tz=None):
        at = _current.get().now()
        return at.astimezone(tz) if tz is not None else at.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _ClockedDatetime


# One date format per language: the day, the month's short name, the year; 24-hour times.
MONTHS = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(),
    "es": "ene feb mar abr may jun jul ago sept oct nov dic".split(),
}


def written_date(day: date, language: str) -> str:
    """`3 Dec 2026` in English, `3 dic 2026` in Spanish."""
    return f"{day.day} {MONTHS.get(language, MONTHS['en'])[day.month - 1]} {day.year}"


def written_time(at: datetime, language: str, zone_name: str | None, *, named: bool = True) -> str:
    """An instant on the reader's wall clock with its zone beside it:
    `3 Dec 2026, 14:05 (UTC−05:00 America/Port-au-Prince)`; without the zone's name when not
    `named` (`(UTC−05:00)`); `(UTC)` for UTC. An unknown zone is UTC."""
    zone_name = zone_name or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone, zone_name = ZoneInfo("UTC"), "UTC"
    local = _aware(at).astimezone(zone)
    return f"{written_date(local.date(), language)}, {local:%H:%M} ({_zone_label(local, zone_name, named)})"


def _zone_label(local: datetime, zone_name: str, named: bool) -> str:
    if zone_name == "UTC":
        return "UTC"
    minutes = int(local.utcoffset().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "\u2212"  # a minus sign, not a hyphen
    offset = f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return f"{offset} {zone_name}" if named else offset
