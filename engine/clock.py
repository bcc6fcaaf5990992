"""The one injectable clock, shared by the engine and SpiffWorkflow's timers.

SpiffWorkflow reads time only through `datetime.now(timezone.utc)` in its timer module; that name is
pointed at a subclass whose `now()` asks the clock of the running unit of work.
"""

from __future__ import annotations

import contextlib
from contextvars import ContextVar
from datetime import datetime, timedelta, timezone
from typing import Iterator, Protocol

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
