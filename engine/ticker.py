"""The ticker: claims due timers and fires each in its own unit of work, then sends the outbox.

APScheduler wakes it at the earliest due time (and at least every `max_sleep` seconds, to see
timers that other processes created), in the web process or in `flask --app wsgi worker`.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import inspect, select

from . import clock as clocks
from . import definitions, runtime, timers
from .errors import ProcessFailure
from .models import ProcessInstance, Timer
from .uow import Database

log = logging.getLogger("doeflow.ticker")


def worker_name() -> str:
    """A lock owner that tells which host and process holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def fire_timer(database: Database, clock: clocks.Clock, timer_id: int, owner: str) -> int:
    """Fire one claimed timer in one unit of work. Returns how many timers of its instance fired
    (others may be due at once); 0 if it had already fired, was cancelled, or its claim passed to
    another worker."""
    with database.unit_of_work(clock) as uow:
        session = uow.session
        row = session.get(Timer, timer_id)
        if row is None:
            return 0
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == row.instance_id)
                                  .with_for_update(of=ProcessInstance))
        session.refresh(row)
        if row.state != "pending" or row.claimed_by != owner:
            return 0
        workflow = runtime.load_workflow(instance, definitions.load_version(instance.process_version))
        runtime.advance(workflow, uow.now())
        changes = runtime.persist(uow, instance, workflow)
        session.flush()
        if row.state == "pending" and not inspect(row).deleted:  # not due yet for SpiffWorkflow
            row.claimed_by = row.claim_expires_at = None
        uow.commit()
        return len(changes.timers.fired)


def _record_failure(database: Database, clock: clocks.Clock, timer_id: int, error: Exception) -> None:
    """A timer whose firing fails is retried with backoff, then parked as failed for an admin."""
    with database.unit_of_work(clock) as uow:
        row = uow.session.get(Timer, timer_id)
        if row is None:
            return
        row.attempts += 1
        row.last_error = str(error)[:2000]
        row.claimed_by = None
        if row.attempts >= timers.MAX_ATTEMPTS:
            row.state = "failed"
        else:
            row.claim_expires_at = uow.now() + timedelta(seconds=30 * 2 ** row.attempts)
        uow.commit()


@dataclass
class TickResult:
    fired: int = 0
    skipped: int = 0
    failed: int = 0


def tick(database: Database, clock: clocks.Clock, *, owner: str | None = None, batch: int = 50,
         lease_seconds: float = timers.CLAIM_SECONDS) -> TickResult:
    """Fire every timer due at the clock's now; returns what happened. A claim lasts
    `lease_seconds`: if this process dies, another takes its timers over after that."""
    owner = owner or worker_name()
    result = TickResult()
    while True:
        claimed = timers.claim_due(database, clock, owner, limit=batch, lease_seconds=lease_seconds)
        if not claimed:
            return result
        for timer_id in claimed:
            try:
                fired = fire_timer(database, clock, timer_id, owner)
                result.fired += fired
                result.skipped += not fired
            except ProcessFailure as error:
                log.warning("timer %s failed: %s", timer_id, error)
                _record_failure(database, clock, timer_id, error)
                result.failed += 1
        if len(claimed) < batch:
            return result


class Ticker:
    """Runs `tick` (and the mail flush given as `after_tick`) on an APScheduler scheduler,
    waking at the earliest due time and at least every `max_sleep` seconds."""

    JOB_ID = "doeflow-tick"

    def __init__(self, database: Database, *, clock: clocks.Clock = clocks.SYSTEM_CLOCK,
                 max_sleep: float = 1.0, lease_seconds: float = timers.CLAIM_SECONDS,
                 after_tick=None, next_work=None):
        self.database = database
        self.clock = clock
        self.lease_seconds = lease_seconds
        self.max_sleep = max_sleep
        self.after_tick = after_tick
        self.next_work = next_work  # earliest time other work (mail retries) wants a wake-up
        self.owner = worker_name()
        self.scheduler = None
        self._lock = threading.Lock()

    def run_once(self) -> datetime:
        """One tick; returns when the next one should run."""
        with self._lock:
            try:
                result = tick(self.database, self.clock, owner=self.owner, lease_seconds=self.lease_seconds)
                if result.fired or result.failed:
                    log.info("tick: %s fired, %s failed", result.fired, result.failed)
                if self.after_tick is not None:
                    self.after_tick()
            except Exception:  # a database restart must not kill the ticker: log and try again
                log.exception("tick failed")
            return self._next_wake()

    def _next_wake(self) -> datetime:
        now = self.clock.now()
        wake = now + timedelta(seconds=self.max_sleep)
        try:
            candidates = [timers.next_due(self.database)]
            if self.next_work is not None:
                candidates.append(self.next_work())
        except Exception:
            log.exception("could not read the next due time")
            return wake
        for due in candidates:
            if due is not None:
                # SpiffWorkflow fires strictly after the due instant.
                wake = min(wake, max(due + timedelta(milliseconds=1), now))
        return wake

    def _job(self) -> None:
        wake = self.run_once()
        self.scheduler.add_job(self._job, "date", run_date=wake, id=self.JOB_ID, replace_existing=True,
                               misfire_grace_time=None)

    def start(self, *, blocking: bool = False) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
        self.scheduler.add_job(self._job, "date", run_date=self.clock.now(), id=self.JOB_ID,
                               misfire_grace_time=None)
        log.info("ticker %s started", self.owner)
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
