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

from .. import clock as clocks
from ..bpmn import execution
from ..definitions import versions as definitions
from ..errors import ProcessFailure
from ..messaging import delivery
from ..runtime import steps, timers
from ..store import leases
from ..store.models import ProcessInstance, Timer
from ..store.uow import Database

log = logging.getLogger("doeflow.ticker")


def worker_name() -> str:
    """A lock owner that tells which host and process holds a claim."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def fire_timer(database: Database, clock: clocks.Clock, timer_id: int, owner: str) -> int:
    """Fire one claimed timer in one unit of work. Returns how many timers of its instance fired
    (others may be due at once); 0 if it had already fired, was cancelled, or its claim passed to
    another worker."""
    with database.unit_of_work(clock) as tx:
        session = tx.session
        row = session.get(Timer, timer_id)
        if row is None:
            return 0
        instance = session.scalar(
            select(ProcessInstance).where(ProcessInstance.id == row.instance_id).with_for_update(of=ProcessInstance)
        )
        if instance.status != "running":  # a cancelled case: its timers are gone, nothing fires
            return 0
        session.refresh(row)
        if row.state != "pending" or row.claimed_by != owner:
            return 0
        workflow = steps.load_workflow(instance, definitions.load_version(instance.process_version))
        execution.advance(workflow, tx.now())
        changes = steps.finish_step(tx, instance, workflow)
        if row.state == "pending" and not inspect(row).deleted:  # not due yet for SpiffWorkflow
            row.claimed_by = row.claim_expires_at = None
        tx.commit()
        return len(changes.timers.fired)


@dataclass
class TickResult:
    fired: int = 0
    skipped: int = 0
    failed: int = 0


def tick(
    database: Database,
    clock: clocks.Clock,
    *,
    owner: str | None = None,
    batch: int = 50,
    lease_seconds: float = timers.CLAIM_SECONDS,
    stop: threading.Event | None = None,
) -> TickResult:
    """Fire every timer due at the clock's now; returns what happened. A claim lasts
    `lease_seconds`: if this process dies, another takes its timers over after that. Once `stop`
    is set, the timer in hand is finished and the rest of the batch is given back."""
    owner = owner or worker_name()
    stop = stop or threading.Event()
    result = TickResult()
    while not stop.is_set():
        with database.unit_of_work(clock) as tx:
            claimed = timers.claim_due(tx, owner, limit=batch, lease_seconds=lease_seconds)
            tx.commit()
        if not claimed:
            break
        for position, timer_id in enumerate(claimed):
            if stop.is_set():
                with database.unit_of_work(clock) as tx:
                    leases.release(tx, Timer, owner, claimed[position:])
                    tx.commit()
                return result
            try:
                fired = fire_timer(database, clock, timer_id, owner)
                result.fired += fired
                result.skipped += not fired
            except ProcessFailure as error:
                log.warning("timer %s failed: %s", timer_id, error)
                with database.unit_of_work(clock) as tx:
                    timers.record_failure(tx, timer_id, error)
                    tx.commit()
                result.failed += 1
        if len(claimed) < batch:
            break
    # Messages the fired timers threw, and any a crash left pending.
    delivery.deliver_pending(database, clock)
    return result


class Ticker:
    """Fires timers (and, given `send_mail(owner, stopping)`, sends the outbox) on an APScheduler scheduler.

    Each loop is its own job that reschedules itself at the earliest time it has work, and at
    least every `max_sleep` seconds to see work that other processes created; a slow SMTP server
    therefore never delays a timer.
    """

    def __init__(
        self,
        database: Database,
        *,
        clock: clocks.Clock = clocks.SYSTEM_CLOCK,
        max_sleep: float = 1.0,
        lease_seconds: float = timers.CLAIM_SECONDS,
        send_mail=None,
        mail_due=None,
    ):
        self.database = database
        self.clock = clock
        self.max_sleep = max_sleep
        self.lease_seconds = lease_seconds
        self.owner = worker_name()
        self.scheduler = None
        self.stopping = threading.Event()
        self._loops = {"doeflow-timers": (self._fire_timers, lambda: _next_due(database))}
        if send_mail is not None:
            self._loops["doeflow-mail"] = (lambda: send_mail(self.owner, self.stopping), mail_due or (lambda: None))

    def _fire_timers(self) -> None:
        result = tick(self.database, self.clock, owner=self.owner, lease_seconds=self.lease_seconds, stop=self.stopping)
        if result.fired or result.failed:
            log.info("tick: %s fired, %s failed", result.fired, result.failed)

    def run_once(self, loop: str = "doeflow-timers") -> datetime:
        """One round of a loop; returns when its next round should run."""
        work, next_due = self._loops[loop]
        try:
            work()
        except Exception:  # a database or SMTP restart must not stop the loop: log, try again
            log.exception("%s failed", loop)
        return self._next_wake(next_due)

    def _next_wake(self, next_due) -> datetime:
        now = self.clock.now()
        wake = now + timedelta(seconds=self.max_sleep)
        try:
            due = next_due()
        except Exception:
            log.exception("could not read the next due time")
            return wake
        if due is not None:
            # SpiffWorkflow fires strictly after the due instant.
            wake = min(wake, max(due + timedelta(milliseconds=1), now))
        return wake

    def _job(self, loop: str) -> None:
        wake = self.run_once(loop)
        if self.stopping.is_set():
            return
        self.scheduler.add_job(
            self._job, "date", args=[loop], run_date=wake, id=loop, replace_existing=True, misfire_grace_time=None
        )

    def start(self, *, blocking: bool = False) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.schedulers.blocking import BlockingScheduler

        self.scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
        for loop in self._loops:
            self.scheduler.add_job(
                self._job, "date", args=[loop], run_date=self.clock.now(), id=loop, misfire_grace_time=None
            )
        log.info("ticker %s started: %s", self.owner, ", ".join(self._loops))
        self.scheduler.start()

    def stop(self) -> None:
        """Finish the timer or email in hand, give the rest of the claimed batch back, and stop."""
        self.stopping.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def _next_due(database: Database) -> datetime | None:
    with database.unit_of_work(write=False) as tx:
        return timers.next_due(tx)
