"""Four `worker` processes tick one PostgreSQL database while they are killed (-9) and restarted
at random and the SMTP server fails on purpose: every due timer fires exactly once and every
email reaches the SMTP server (a resend after a kill mid-send carries the same Message-ID).

The figures go to test-artifacts/worker-crashes.json.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.clock import FixedClock
from engine.modeling import publishing
from engine.store.models import AuditEvent, OutboxEmail, Timer, User
from engine.work import instances
from tests.conftest import _migrated_database, _reset

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "tests" / "engine" / "diagrams" / "wait_with_reminder.bpmn"
INSTANCES = 1000
WORKERS = 4
CHAOS_SECONDS = 40
SETTLE_SECONDS = 150


@pytest.fixture
def pg(postgresql_url):
    database = _migrated_database(postgresql_url)
    _reset(database)
    return database, postgresql_url


def spawn(url: str, smtp_port: int, log) -> subprocess.Popen:
    env = {
        **os.environ,
        "DOEFLOW_DATABASE_URL": url,
        "DOEFLOW_SMTP_HOST": "127.0.0.1",
        "DOEFLOW_SMTP_PORT": str(smtp_port),
        "DOEFLOW_WORKER_LEASE_SECONDS": "3",
        # Backoff starting at 0.25 s instead of 30 s, so retries drain within the test.
        "DOEFLOW_MAIL_RETRY_SECONDS": "0.25",
        "DOEFLOW_ENV": "development",
        "DOEFLOW_BASE_URL": "https://doeflow.test",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def counts(database):
    with database.unit_of_work(write=False) as uow:
        s = uow.session
        return {
            "timers_pending": s.scalar(select(func.count()).select_from(Timer).where(Timer.state == "pending")),
            "timers_fired": s.scalar(select(func.count()).select_from(Timer).where(Timer.state == "fired")),
            "mail_pending": s.scalar(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == "pending")
            ),
            "mail_sent": s.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == "sent")),
            "mail_dead": s.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.state == "dead")),
        }


def test_timers_fire_exactly_once_and_mail_goes_out_while_workers_are_killed(pg, smtp_server, tmp_path):  # noqa: F811
    database, url = pg
    publishing.publish(database.unit_of_work(), {DIAGRAM.name: DIAGRAM.read_bytes()})
    with database.unit_of_work(write=False) as uow:
        drafter = uow.session.scalar(select(User.id).where(User.email == "project-developer@hti.demo"))
    # Started two minutes ago by the clock, so every one-minute reminder is due now.
    past = FixedClock(datetime.now(timezone.utc) - timedelta(minutes=2))
    for _ in range(INSTANCES):
        instances.start_instance(database.unit_of_work(past), drafter, "wait_with_reminder", "HTI")
    assert counts(database)["timers_pending"] == INSTANCES

    rng = random.Random(20261125)
    log = open(tmp_path / "workers.log", "w")
    workers = [spawn(url, smtp_server.port, log) for _ in range(WORKERS)]
    kills = smtp_failures = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < CHAOS_SECONDS:
            time.sleep(rng.uniform(0.2, 0.8))  # the pace of the chaos, not a wait for a timer
            victim = rng.randrange(WORKERS)
            os.killpg(workers[victim].pid, signal.SIGKILL)
            workers[victim].wait()
            workers[victim] = spawn(url, smtp_server.port, log)
            kills += 1
            if rng.random() < 0.4:
                burst = rng.randint(1, 3)
                smtp_server.fail_next(burst, code=451)
                smtp_failures += burst
            now = counts(database)
            if now["timers_pending"] == 0 and now["mail_pending"] == 0:
                break
        chaos_seconds = time.monotonic() - started
        while time.monotonic() - started < CHAOS_SECONDS + SETTLE_SECONDS:
            now = counts(database)
            if now["timers_pending"] == 0 and now["mail_pending"] == 0:
                break
            time.sleep(0.5)  # polling for the workers to drain, not a wait for a timer
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
        log.close()
    total_seconds = time.monotonic() - started

    final = counts(database)
    with database.unit_of_work(write=False) as uow:
        per_instance = Counter(
            uow.session.scalars(select(AuditEvent.instance_id).where(AuditEvent.kind == "timer_fired"))
        )
        queued = uow.session.scalar(select(func.count()).select_from(OutboxEmail))
        stuck = [
            f"{e.id} attempts={e.attempts} next={e.next_attempt_at:%H:%M:%S.%f} claimed_by={e.claimed_by} "
            f"until={e.claim_expires_at} error={e.last_error}"
            for e in uow.session.scalars(select(OutboxEmail).where(OutboxEmail.state == "pending"))
        ]
    fired_once = sum(1 for c in per_instance.values() if c == 1)
    fired_twice = sum(1 for c in per_instance.values() if c > 1)
    deliveries = Counter(smtp_server.message_ids())
    figures = {
        "instances": INSTANCES,
        "workers": WORKERS,
        "kills": kills,
        "smtp_failures_injected": smtp_failures,
        "chaos_seconds": round(chaos_seconds, 1),
        "total_seconds": round(total_seconds, 1),
        "timers_fired_once": fired_once,
        "timers_fired_more_than_once": fired_twice,
        "timers_lost": INSTANCES - len(per_instance),
        **final,
        "emails_queued": queued,
        "distinct_message_ids_received": len(deliveries),
        "duplicate_deliveries_same_message_id": sum(c - 1 for c in deliveries.values()),
        "finished_at": datetime.now(timezone.utc).strftime("%H:%M:%S.%f"),
        "emails_still_pending": stuck,
    }
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "worker-crashes.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))

    assert kills >= 10
    assert (fired_once, fired_twice, figures["timers_lost"]) == (INSTANCES, 0, 0), figures
    assert final["timers_pending"] == 0 and final["timers_fired"] == INSTANCES
    # Every email (1000 "task assigned", 1000 reminders) went out, none became a dead letter.
    assert queued == 2 * INSTANCES and final["mail_sent"] == queued and final["mail_dead"] == 0, figures
    assert len(deliveries) == queued, figures
    # A kill between the SMTP server's "250 OK" and the commit that records it is the only way to
    # send twice; such a resend is the same message (same Message-ID), and there is at most one per kill.
    assert figures["duplicate_deliveries_same_message_id"] <= kills, figures
